import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createTemplate } from './databases';

/** Redis for the cross-instance tests: TEST_REDIS_URL, or a throw-away one where redis-server is installed. */
function redisUrl(): Record<string, string> {
  if (process.env.TEST_REDIS_URL) return {};
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' });
  } catch {
    return {};
  }
  const script = path.join(__dirname, '..', '..', 'scripts', 'start-test-redis.sh');
  return { TEST_REDIS_URL: execFileSync('bash', [script], { encoding: 'utf8' }).trim() };
}

/**
 * The suite runs in a time zone that is not UTC (+05:30), unless TZ says otherwise: a stored time
 * read in the process' own zone rather than as the UTC it is would then fail the tests, as it
 * would answer wrong times on a server in such a zone.
 */
const timeZone = () => ({ TZ: process.env.TZ || 'Asia/Kolkata' });

/**
 * Migrates one template database with the real CLI (as `npm start` does); every test file then
 * works on its own copy of it (setup-env.ts), so files never see each other's rows.
 */
export default function globalSetup() {
  Object.assign(process.env, timeZone(), createTemplate(), redisUrl());
}
