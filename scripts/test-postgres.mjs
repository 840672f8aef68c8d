#!/usr/bin/env node
// Runs the whole Jest suite a second time, against PostgreSQL. The server is TEST_POSTGRES_URL,
// or else the throw-away cluster of scripts/start-test-postgres.sh when PostgreSQL is installed.
// Without either it skips with a warning, except under CI=true, where it fails.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
let url = process.env.TEST_POSTGRES_URL;
const installed = fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').length > 0;
if (!url && installed) {
  url = execFileSync('bash', ['scripts/start-test-postgres.sh'], { cwd: root, encoding: 'utf8' }).trim();
}
if (!url) {
  const message = 'PostgreSQL pass skipped: set TEST_POSTGRES_URL or install PostgreSQL (apt-get install postgresql)';
  if (process.env.CI) {
    console.error(message.replace('skipped', 'cannot run'));
    process.exit(1);
  }
  console.warn(`\n${message}\n`);
  process.exit(0);
}
console.log('\nThe same suite against PostgreSQL:\n');
const jest = spawnSync('npx', ['jest', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_PROVIDER: 'postgresql', TEST_POSTGRES_URL: url },
});
process.exit(jest.status ?? 1);
