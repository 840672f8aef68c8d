#!/usr/bin/env node
// The usage export (GET /usage/export) on a big ledger: how long a million rows take to stream,
// and how much memory the gateway holds meanwhile. `npm run build` first; then
//   node bench/export.mjs                # 1,000,000 rows (EXPORT_ROWS to change), CSV then JSON
// It seeds a temporary SQLite file (removed afterwards) with better-sqlite3, starts the built
// gateway on it, downloads the whole export while reading the gateway's RSS from /proc, and
// prints rows, seconds, MB and the gateway's peak RSS before and during the download.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { storedTs } from './seed.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const Database = require('better-sqlite3');
const ROWS = Number(process.env.EXPORT_ROWS ?? 1_000_000);
const ADMIN_KEY = 'bench-admin-key';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'export-bench-'));
const db = path.join(work, 'ledger.db');

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const env = (extra) => ({ PATH: process.env.PATH, HOME: process.env.HOME ?? os.homedir(), ...extra });
const kb = (pid, key) =>
  Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

function seed() {
  const r = spawnSync('npx', ['prisma', 'migrate', 'deploy'], {
    cwd: root,
    env: env({ DATABASE_URL: `file:${db}` }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`migrate failed:\n${r.stdout}\n${r.stderr}`);
  const started = Date.now();
  const sqlite = new Database(db);
  sqlite.pragma('journal_mode = WAL');
  const insert = sqlite.prepare(
    `INSERT INTO "ModelUsage" (user_id, chat_id, model_name, provider, prompt_tokens, completion_tokens, total_tokens,
       cost, cost_micros, price_known, is_streaming, timestamp, request_time_ms)
     VALUES (NULL, NULL, ?, 'openai', ?, ?, ?, ?, ?, 1, 0, ?, ?)`,
  );
  const month = Date.UTC(2026, 9, 1);
  const many = sqlite.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const prompt = 500 + (i % 1500);
      const completion = 100 + (i % 400);
      const micros = prompt * 5 + completion * 15;
      insert.run(
        i % 3 ? 'gpt-4o' : 'gpt-4o-mini',
        prompt,
        completion,
        prompt + completion,
        micros / 1e6,
        micros,
        storedTs(month + i * 2000),
        300 + (i % 900),
      );
    }
  });
  for (let i = 0; i < ROWS; i += 50_000) many(i, Math.min(ROWS, i + 50_000));
  sqlite.close();
  return (Date.now() - started) / 1000;
}

async function start() {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/index.js'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: env({
      DATABASE_URL: `file:${db}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ADMIN_API_KEY: ADMIN_KEY,
    }),
  });
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; ) {
    try {
      if ((await fetch(`${base}/ready`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('gateway not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base };
}

async function download(g, format) {
  fs.writeFileSync(`/proc/${g.child.pid}/clear_refs`, '5');
  const before = kb(g.child.pid, 'VmRSS');
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, kb(g.child.pid, 'VmRSS'));
  }, 100);
  const started = Date.now();
  const res = await fetch(`${g.base}/usage/export?format=${format}&from=2026-10-01&to=2026-12-01`, {
    headers: { 'x-admin-api-key': ADMIN_KEY },
  });
  if (res.status !== 200) throw new Error(`export: ${res.status} ${await res.text()}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
  }
  clearInterval(timer);
  peak = Math.max(peak, kb(g.child.pid, 'VmHWM'));
  return {
    format,
    seconds: (Date.now() - started) / 1000,
    mb: bytes / 1e6,
    lines,
    before: before / 1024,
    peak: peak / 1024,
  };
}

let gateway;
try {
  console.log(`seeding ${ROWS.toLocaleString('en')} usage rows...`);
  const seeded = seed();
  console.log(`seeded in ${seeded.toFixed(1)} s; starting the gateway`);
  gateway = await start();
  const results = [await download(gateway, 'csv'), await download(gateway, 'json')];
  console.log('\nformat  rows        seconds  MB      rows/s   RSS before MB  peak RSS during MB');
  for (const r of results) {
    const rows = r.format === 'csv' ? r.lines - 1 : r.lines - 2;
    console.log(
      `${r.format.padEnd(6)}  ${String(rows).padEnd(10)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.mb.toFixed(1).padStart(6)}  ${Math.round(
        rows / r.seconds,
      )
        .toString()
        .padStart(7)}  ${r.before.toFixed(0).padStart(13)}  ${r.peak.toFixed(0).padStart(18)}`,
    );
    if (rows !== ROWS) throw new Error(`${r.format}: ${rows} rows, expected ${ROWS}`);
  }
} finally {
  gateway?.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  fs.rmSync(work, { recursive: true, force: true });
}
