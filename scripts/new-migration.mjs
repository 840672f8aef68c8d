#!/usr/bin/env node
// Creates prisma/migrations/<timestamp>_<name>/migration.sql from the difference between the
// committed migrations and prisma/schema.prisma. `prisma migrate dev` needs the native schema
// engine, which cannot be downloaded here; `migrate diff` works through the driver adapter.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migration -- <name_in_snake_case>');
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, '..');
const migrations = path.join(root, 'prisma', 'migrations');
const hasMigrations = fs.existsSync(migrations) && fs.readdirSync(migrations).some((d) => /^\d+_/.test(d));
const from = hasMigrations ? ['--from-migrations', migrations] : ['--from-empty'];
const sql = execFileSync(
  'npx',
  ['prisma', 'migrate', 'diff', ...from, '--to-schema-datamodel', 'prisma/schema.prisma', '--script'],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
if (!/^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE|PRAGMA)/im.test(sql)) {
  console.log('The schema matches the migrations: nothing to do.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join(migrations, `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'migration.sql'), sql);
console.log(`Wrote ${path.relative(root, dir)}/migration.sql; review it, then commit it.`);
