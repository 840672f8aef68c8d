// Where the test suite keeps its databases: a SQLite file per test file by default, or, with
// TEST_DATABASE_PROVIDER=postgresql, a PostgreSQL database per test file on TEST_POSTGRES_URL.
// Each is a copy of a template that the real CLI migrated once (global-setup.ts).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const usePostgres = process.env.TEST_DATABASE_PROVIDER === 'postgresql';

export function postgresUrl(database: string): string {
  const url = new URL(process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:54329/postgres');
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs SQL on the PostgreSQL server's maintenance database, synchronously (setup files cannot await). */
export function postgresAdmin(sql: string): void {
  const script = `const { Client } = require('pg');
    const c = new Client({ connectionString: process.argv[1] });
    c.connect().then(() => c.query(process.argv[2])).then(() => c.end(), (e) => { console.error(e.message); process.exit(1); });`;
  execFileSync(process.execPath, ['-e', script, postgresUrl('postgres'), sql], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Creates the template database and migrates it; returns what the test files need to know. */
export function createTemplate(): Record<string, string> {
  const root = path.resolve(__dirname, '..', '..');
  if (usePostgres) {
    const template = `cg_test_${process.pid}_template`;
    postgresAdmin(`DROP DATABASE IF EXISTS "${template}"`);
    postgresAdmin(`CREATE DATABASE "${template}"`);
    migrate(root, postgresUrl(template));
    return { TEST_PG_TEMPLATE: template, TEST_PG_PREFIX: `cg_test_${process.pid}` };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-gateway-test-'));
  const template = path.join(dir, 'template.db');
  migrate(root, `file:${template}`);
  return { TEST_DB_DIR: dir, TEST_TEMPLATE_DB: template };
}

function migrate(root: string, url: string) {
  execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'pipe',
  });
}

/** A fresh database for one test file: its DATABASE_URL. */
export function databaseForTestFile(): string {
  if (usePostgres) {
    const name = `${process.env.TEST_PG_PREFIX}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    postgresAdmin(`CREATE DATABASE "${name}" TEMPLATE "${process.env.TEST_PG_TEMPLATE}"`);
    return postgresUrl(name);
  }
  const template = process.env.TEST_TEMPLATE_DB as string;
  const file = path.join(path.dirname(template), `${randomUUID()}.db`);
  fs.copyFileSync(template, file);
  return `file:${file}`;
}

export async function dropAll(): Promise<void> {
  if (usePostgres) {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: postgresUrl('postgres') });
    await client.connect();
    const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${process.env.TEST_PG_PREFIX}%`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    await client.end();
  } else if (process.env.TEST_DB_DIR) {
    fs.rmSync(process.env.TEST_DB_DIR, { recursive: true, force: true });
  }
}
