import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// `npm start`'s migration step (scripts/migrate.mjs): one line for a person to read, the Prisma
// CLI's whole output only when it fails.
const root = path.resolve(__dirname, '..', '..');
const migrate = (databaseUrl: string) =>
  spawnSync(process.execPath, [path.join(root, 'scripts', 'migrate.mjs')], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });

jest.setTimeout(60_000);

describe('scripts/migrate.mjs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('applies the migrations with one line naming them, then says the database is up to date', () => {
    const url = `file:${path.join(dir, 'fresh.db')}`;
    const migrations = fs
      .readdirSync(path.join(root, 'prisma', 'migrations'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const first = migrate(url);
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(`migrations: applied ${migrations.length} to SQLite (${migrations.join(', ')})\n`);
    expect(first.stderr).toBe('');
    const again = migrate(url);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`migrations: SQLite is up to date (${migrations.length} migrations)\n`);
  });

  it('fails with the CLI’s own output when the database cannot be reached', () => {
    const failed = migrate('postgresql://nobody@127.0.0.1:1/none');
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/Can't reach database server/);
    expect(failed.stderr).toMatch(/migrations: failed/);
  });
});
