import { dropAll } from './databases';

export default async function globalTeardown() {
  await dropAll();
}
