import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Migrates one template database with the real CLI (as `npm start` does); every test file then
 * works on its own copy of it (test/setup-env.ts), so files never see each other's rows.
 */
export default function globalSetup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-gateway-test-'));
  const template = path.join(dir, 'template.db');
  execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, DATABASE_URL: `file:${template}` },
    stdio: 'pipe',
  });
  process.env.TEST_DB_DIR = dir;
  process.env.TEST_TEMPLATE_DB = template;
}
