#!/usr/bin/env node
// `npm start` builds only when the sources changed since the last build (tsc takes 10-20 s here):
// it compares the newest file the build reads (tsconfig.build.json's `src` and `scripts`, the
// tsconfig files, the generated Prisma clients under src/) with the stamp the last build left.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const stamp = path.join(root, 'dist', '.build-stamp');

function newest(target) {
  let stat;
  try {
    stat = fs.statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a file removed or renamed changes its folder's time
  for (const entry of fs.readdirSync(target)) latest = Math.max(latest, newest(path.join(target, entry)));
  return latest;
}

const inputs = ['src', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const changed = Math.max(...inputs.map((input) => newest(path.join(root, input))));

if (built > 0 && changed <= built) {
  console.log('build: up to date');
} else {
  console.log(built > 0 ? 'build: sources changed, compiling' : 'build: compiling');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
