#!/usr/bin/env node
// Benchmark: a month's usage summary grouped by model and day, over a ledger of 1,000,000 rows
// spread over the last 365 days (SQLite). Prints numbers; asserts nothing. Needs `npm run build`.
//   npm run bench:usage [-- --rows 1000000]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

const root = path.resolve(import.meta.dirname, '..');
const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 1_000_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-usage-'));
const file = path.join(dir, 'usage.db');
const env = { ...process.env, DATABASE_URL: `file:${file}`, NODE_ENV: 'production', LOG_LEVEL: 'warn' };

execFileSync('npx', ['prisma', 'migrate', 'deploy'], { cwd: root, env, stdio: 'ignore' });

// Bulk seed straight into the migrated schema, timestamps in the format Prisma writes.
const models = [
  ['gpt-4o', 'openai'],
  ['gpt-4o-mini', 'openai'],
  ['gpt-4.1', 'openai'],
  ['o3', 'openai'],
  ['claude-sonnet-4', 'anthropic'],
  ['claude-3-5-haiku', 'anthropic'],
  ['gemini-2.5-pro', 'google'],
  ['gemini-2.5-flash', 'google'],
  ['llama-3.3-70b-versatile', 'groq'],
  ['llama-3.1-8b-instant', 'groq'],
];
const db = new Database(file);
db.pragma('journal_mode = WAL');
const started = performance.now();
const now = Date.now();
const users = db.prepare('INSERT INTO "User" (username, email, created_at) VALUES (?, ?, ?)');
db.transaction(() => {
  for (let u = 1; u <= 100; u++)
    users.run(`user${u}`, `user${u}@example.com`, new Date(now).toISOString().replace('Z', '+00:00'));
})();
const insert = db.prepare(`INSERT INTO "ModelUsage" (user_id, model_name, provider, prompt_tokens, completion_tokens,
  total_tokens, cost, price_known, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`);
const batch = db.transaction((from, to) => {
  for (let i = from; i < to; i++) {
    // Oldest first, as a ledger grows.
    const at = now - Math.floor(((ROWS - i) / ROWS) * 365 * 86_400_000);
    const [model, provider] = models[i % models.length];
    const prompt = 200 + (i % 1800);
    const completion = 50 + (i % 700);
    insert.run(
      1 + (i % 100),
      model,
      provider,
      prompt,
      completion,
      prompt + completion,
      (prompt * 2.5 + completion * 10) / 1e6,
      new Date(at).toISOString().replace('Z', '+00:00'),
    );
  }
});
for (let i = 0; i < ROWS; i += 50_000) batch(i, Math.min(ROWS, i + 50_000));
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
const seedSeconds = (performance.now() - started) / 1000;

const server = spawn(process.execPath, [path.join(root, 'dist', 'src', 'index.js')], {
  cwd: root,
  env: { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const m = out.match(/listening on (http:\/\/[\d.:]+)/);
    if (m) resolve(m[1]);
  });
  server.on('exit', () => reject(new Error(`server exited:\n${out}`)));
});

async function time(query, runs = 20) {
  const ms = [];
  let body;
  for (let i = 0; i < runs + 3; i++) {
    const t = performance.now();
    const res = await fetch(`${base}/usage/summary?${query}`);
    body = await res.json();
    if (res.status !== 200) throw new Error(JSON.stringify(body));
    if (i >= 3) ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return {
    median: ms[Math.floor(ms.length / 2)],
    p95: ms[Math.floor(ms.length * 0.95)],
    rows: body.rows.length,
    requests: body.totals.requests,
  };
}

const monthEnd = new Date(now).toISOString();
const monthStart = new Date(now - 30 * 86_400_000).toISOString();
const cases = [
  [
    'last 30 days, by MODEL and DAY (Europe/Paris)',
    `from=${monthStart}&to=${monthEnd}&group_by=MODEL,DAY&time_zone=Europe/Paris`,
  ],
  ['last 30 days, by MODEL and DAY, one user', `from=${monthStart}&to=${monthEnd}&group_by=MODEL,DAY&user_id=7`],
  ['last 30 days, totals only', `from=${monthStart}&to=${monthEnd}`],
  ['whole year, by PROVIDER', 'group_by=PROVIDER'],
];
console.log(`\nUsage summary over ${ROWS.toLocaleString('en')} rows (365 days), SQLite, ${os.cpus().length} cores`);
console.log(`seeded in ${seedSeconds.toFixed(1)} s (bulk insert)\n`);
console.log(
  'query'.padEnd(48),
  'median ms'.padStart(10),
  'p95 ms'.padStart(8),
  'rows'.padStart(6),
  'calls'.padStart(10),
);
for (const [name, query] of cases) {
  const r = await time(query);
  console.log(
    name.padEnd(48),
    r.median.toFixed(1).padStart(10),
    r.p95.toFixed(1).padStart(8),
    String(r.rows).padStart(6),
    String(r.requests).padStart(10),
  );
}
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));
fs.rmSync(dir, { recursive: true, force: true });
