import { createTemplate } from './databases';

/**
 * Migrates one template database with the real CLI (as `npm start` does); every test file then
 * works on its own copy of it (setup-env.ts), so files never see each other's rows.
 */
export default function globalSetup() {
  Object.assign(process.env, createTemplate());
}
