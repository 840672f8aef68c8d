#!/usr/bin/env node
// `npm start`'s migration step: `prisma migrate deploy`, summed up in one line. The Prisma CLI's
// own output (its config notice, a warning about the schema's `url`, which the offline recipe
// needs, and the list of every migration) alarms a newcomer and says nothing they need; it is
// printed in full when the step fails. `npm run db:migrate` runs the CLI as it is.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const prisma = path.join(root, 'node_modules', '.bin', 'prisma');
const result = spawnSync(prisma, ['migrate', 'deploy'], { cwd: root, encoding: 'utf8' });
const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;

if (result.status !== 0) {
  process.stderr.write(output);
  if (result.error) console.error(result.error.message);
  console.error('migrations: failed (the output of `prisma migrate deploy` is above)');
  // The CLI waits for SQLite's write lock and then fails with a timeout that names no cause.
  if (/SocketTimeout|database is locked|SQLITE_BUSY/.test(output)) {
    console.error(
      'migrations: the database file is locked: is another process (a running server) using it? ' +
        'Stop it, or give this one its own DATABASE_URL.',
    );
  }
  process.exit(result.status ?? 1);
}
const found = output.match(/(\d+) migrations? found/)?.[1];
const applied = output.includes('have been applied')
  ? [...output.matchAll(/└─ (\d{14}_[\w-]+)\//g)].map((m) => m[1])
  : [];
const database = output.match(/Datasource "db": (\w+) database/)?.[1] ?? 'the database';
console.log(
  applied.length > 0
    ? `migrations: applied ${applied.length} to ${database} (${applied.join(', ')})`
    : `migrations: ${database} is up to date (${found ?? 'all'} migrations)`,
);
