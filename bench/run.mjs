#!/usr/bin/env node
// chat-gateway benchmark: the gateway against a minimal floor server on the same data, and a framework ceiling.
// See bench/README.md. `npm run bench` (= node bench/run.mjs); options are environment variables:
//
//   GATEWAY_DIR          the gateway checkout to build and run (default: this repository)
//   BENCH_DURATION       seconds per measured run (10)       BENCH_WARMUP      warm-up seconds per server and workload (3)
//   BENCH_PAIRS          gateway/floor pairs per workload (3) BENCH_CONNECTIONS concurrent connections (32)
//   BENCH_LARGE_CHATS    chats in the large database (10000)  BENCH_LARGE_MESSAGES messages in it (1000000)
//   BENCH_WORKLOADS      e.g. "1,5" to run only some workloads (default: all)
//   BENCH_SKIP_BUILD=1   use the gateway's existing dist/ instead of running `npm run build`
//   BENCH_KEEP=1         keep the temporary databases and logs

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FOLDERS, messagePool, organisationOf, STORED_TS, seedBulk, seedThroughApi } from './seed.mjs';

const wallStart = performance.now();
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const gwDir = path.resolve(process.env.GATEWAY_DIR || path.join(benchDir, '..'));
const requireHere = createRequire(import.meta.url);
const autocannon = requireHere('autocannon');
const requireGw = createRequire(path.join(gwDir, 'package.json'));
const betterSqlite3Path = requireGw.resolve('better-sqlite3');
const Database = requireGw('better-sqlite3');

const num = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return Number(v);
};
const settings = {
  durationS: num('BENCH_DURATION', 10),
  warmupS: num('BENCH_WARMUP', 3),
  pairs: num('BENCH_PAIRS', 3),
  connections: num('BENCH_CONNECTIONS', 32),
  small: { users: 1, chats: 200, messagesPerChat: 20 },
  large: { users: 1, chats: num('BENCH_LARGE_CHATS', 10_000), messages: num('BENCH_LARGE_MESSAGES', 1_000_000) },
};
const only = process.env.BENCH_WORKLOADS ? new Set(process.env.BENCH_WORKLOADS.split(',').map(Number)) : null;
const HOST = '127.0.0.1';
const USER = 1;
// Small database: reads go to chats 1..100, writes (workload 3) to chats 101..200, so every read
// sees exactly 20 messages, before and after the write workload.
const SMALL_READ = Array.from({ length: 100 }, (_, i) => i + 1);
const SMALL_WRITE = Array.from({ length: 100 }, (_, i) => i + 101);
// Large database: 100 chats spread over the id range hold exactly 20 messages (the same read as
// workload 1); the other chats share the rest of the million.
const LARGE_READ = Array.from({ length: 100 }, (_, i) => Math.round(((i + 1) * settings.large.chats) / 100));
// Large database, workload 6: today's list of the user with all the chats (archived ones left out).
const LARGE_LIST = `/chats/?user_id=${USER}&limit=10`;
// Workload 7: the same list filtered as a client filters it, by a team tag and a quarter tag
// together (every 30th chat) and by a folder (every 20th chat, the four folders in turn),
// alternately, through the 6 tag pairs and the 4 folders, so no one answer repeats back to back.
const TAG_PAIRS = ['sales', 'support'].flatMap((team) => ['q1', 'q2', 'q3'].map((q) => [team, q]));
const LARGE_FILTERED = Array.from({ length: 12 }, (_, i) => [
  `/chats/?user_id=${USER}&limit=10&tag=${TAG_PAIRS[i % TAG_PAIRS.length].join('&tag=')}`,
  `/chats/?user_id=${USER}&limit=10&folder_id=${FOLDERS[i % FOLDERS.length][0]}`,
]).flat();

const log = (...args) => console.log(`[${((performance.now() - wallStart) / 1000).toFixed(1).padStart(5)}s]`, ...args);

// ---------------------------------------------------------------- processes

const children = new Set();
function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-gateway-bench-'));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Only what the gateway needs, so settings from the caller's shell (AUTH_MODE, rate limits...) do not leak in. */
function baseEnv(extra) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? os.homedir(), CHECKPOINT_DISABLE: '1' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return { ...env, ...extra };
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

const tail = (file) => {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
};

async function startServer(name, kind, db) {
  const port = await freePort();
  const logFile = path.join(work, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child =
    kind === 'gateway'
      ? spawn(process.execPath, ['dist/src/index.js'], {
          cwd: gwDir,
          stdio: ['ignore', out, out],
          env: baseEnv({
            DATABASE_URL: `file:${db}`,
            PORT: String(port),
            HOST,
            NODE_ENV: 'production',
            LOG_LEVEL: 'warn',
          }),
        })
      : spawn(process.execPath, [path.join(benchDir, `${kind}.mjs`)], {
          cwd: benchDir,
          stdio: ['ignore', out, out],
          env: baseEnv({
            PORT: String(port),
            HOST,
            ...(kind === 'ceiling'
              ? { CEILING_DB: db, GATEWAY_DIR: gwDir }
              : { FLOOR_DB: db, BETTER_SQLITE3: betterSqlite3Path }),
          }),
        });
  fs.closeSync(out);
  children.add(child);
  const base = `http://${HOST}:${port}`;
  const probe = kind === 'gateway' ? '/ready' : '/health';
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited (${child.exitCode}) during start-up:\n${tail(logFile)}`);
    try {
      const res = await fetch(base + probe);
      if (res.status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${name} not ready after 60 s:\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, kind, base, child, logFile, pid: child.pid };
}

/** A server that ended on its own: say how, since at LOG_LEVEL=warn a SIGTERM'd gateway exits 0 silently. */
function assertAlive(server, when) {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) return;
  const how = child.signalCode ? `killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
  const hint =
    child.exitCode === 0 || child.signalCode
      ? ' (not by this harness: another process signalled it, e.g. a broad pkill/killall of node servers)'
      : '';
  throw new Error(`${server.name} (pid ${child.pid}) ${how} ${when}${hint}. Its log:\n${tail(server.logFile)}`);
}

async function stopServer(server) {
  const { child } = server;
  assertAlive(server, 'before its stop');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

function migrate(db) {
  run('npx', ['prisma', 'migrate', 'deploy'], { cwd: gwDir, env: baseEnv({ DATABASE_URL: `file:${db}` }) });
}

// ---------------------------------------------------------------- memory

const procStatus = (pid, key) => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

/**
 * Peak RSS of a server over one run: on Linux the kernel's high-water mark (VmHWM), reset before the
 * run through /proc/PID/clear_refs, plus VmRSS sampled every 250 ms; elsewhere `ps` once a second.
 */
function watchRss(pid) {
  let max = 0;
  let exact = false;
  const linux = fs.existsSync(`/proc/${pid}/status`);
  if (linux) {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      exact = true;
    } catch {}
  }
  const sample = () => {
    try {
      const rss = linux
        ? procStatus(pid, 'VmRSS')
        : Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
      if (rss > max) max = rss;
    } catch {}
  };
  sample();
  const timer = setInterval(sample, linux ? 250 : 1000);
  return () => {
    clearInterval(timer);
    sample();
    if (exact) {
      try {
        max = Math.max(max, procStatus(pid, 'VmHWM'));
      } catch {}
    }
    return max || null;
  };
}

// ---------------------------------------------------------------- checks

const TS_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function fetchText(base, method, pathname, body) {
  const res = await fetch(base + pathname, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

function assertSame(label, gw, floor) {
  const same = gw.status === floor.status && gw.type === floor.type && gw.text === floor.text;
  if (same) return;
  const i = firstDifference(gw.text, floor.text);
  throw new Error(
    `FLOOR AND GATEWAY DIFFER on ${label}:\n` +
      `  gateway: ${gw.status} ${gw.type} (${gw.text.length} chars)\n  floor:   ${floor.status} ${floor.type} (${floor.text.length} chars)\n` +
      `  first difference at char ${i}:\n  gateway: …${gw.text.slice(Math.max(0, i - 60), i + 100)}\n  floor:   …${floor.text.slice(Math.max(0, i - 60), i + 100)}`,
  );
}

const CHAT_QUERY =
  'query Chat($chat_id: Int!, $user_id: Int) { chat(chat_id: $chat_id, user_id: $user_id) { chat_id title created_at user_id messages { message_id chat_id content sender timestamp } } }';
const graphqlBody = (chatId) => JSON.stringify({ query: CHAT_QUERY, variables: { chat_id: chatId, user_id: USER } });

/** Routes 1-3 (and the GraphQL read) answer the same bytes on both servers before any load. */
async function compareSmall(gw, floor) {
  const chat = `/chats/${SMALL_READ[0]}?user_id=${USER}`;
  const r1 = [await fetchText(gw.base, 'GET', chat), await fetchText(floor.base, 'GET', chat)];
  if (r1[0].status !== 200 || JSON.parse(r1[0].text).messages.length !== 20)
    throw new Error(`unexpected GET ${chat}: ${r1[0].text}`);
  assertSame(`GET ${chat}`, ...r1);

  const list = `/chats/?user_id=${USER}&limit=10`;
  const r2 = [await fetchText(gw.base, 'GET', list), await fetchText(floor.base, 'GET', list)];
  if (r2[0].status !== 200 || JSON.parse(r2[0].text).length !== 10)
    throw new Error(`unexpected GET ${list}: ${r2[0].text}`);
  assertSame(`GET ${list}`, ...r2);

  // Both servers have their own copy of the same file, so the new message gets the same id on
  // both; only the server-assigned timestamp differs, and its format is checked instead.
  const post = `/chats/${SMALL_WRITE[0]}/messages?user_id=${USER}`;
  const body = JSON.stringify({ content: 'Compare: "quotes", \\ backslash, é, 😀, </script>', sender: 'ai' });
  const r3 = [await fetchText(gw.base, 'POST', post, body), await fetchText(floor.base, 'POST', post, body)];
  const ts = r3.map((r) => (r.status === 200 ? JSON.parse(r.text).timestamp : null));
  if (!ts.every((t) => TS_Z.test(t)))
    throw new Error(`POST ${post}: bad timestamps ${JSON.stringify(ts)}: ${r3[0].text} / ${r3[1].text}`);
  assertSame(
    `POST ${post} (timestamp value masked)`,
    { ...r3[0], text: r3[0].text.replace(ts[0], '<ts>') },
    { ...r3[1], text: r3[1].text.replace(ts[1], '<ts>') },
  );
  const after = `/chats/${SMALL_WRITE[0]}?user_id=${USER}`;
  const r3b = [await fetchText(gw.base, 'GET', after), await fetchText(floor.base, 'GET', after)];
  assertSame(
    `GET ${after} after the POST (timestamp masked)`,
    ...r3b.map((r, i) => ({ ...r, text: r.text.replace(ts[i], '<ts>') })),
  );

  // Workload 4: the GraphQL answer carries exactly the REST body.
  const g = await fetchText(gw.base, 'POST', '/graphql', graphqlBody(SMALL_READ[0]));
  if (g.status !== 200 || g.text !== `{"data":{"chat":${r1[0].text}}}`) {
    throw new Error(
      `GraphQL chat query differs from REST:\n  ${g.status} ${g.text.slice(0, 300)}\n  ${r1[0].text.slice(0, 300)}`,
    );
  }
  // Production mode: the debug route is off.
  const dbg = await fetchText(gw.base, 'POST', '/chats/debug/test-model-usage?model_name=gpt-4o');
  if (dbg.status !== 404) throw new Error(`debug route answered ${dbg.status}: the gateway is not in production mode`);
  return r1[0].text;
}

/**
 * The chat IDs a list of the large database answers, from the seeding rule (`organisationOf`):
 * chats are created in ID order, so newest first is the highest ID first.
 */
function expectedList(pathname, organised) {
  const params = new URL(pathname, 'http://x').searchParams;
  const limit = Number(params.get('limit') ?? 10);
  const offset = Number(params.get('offset') ?? 0);
  const tags = params
    .getAll('tag')
    .join(',')
    .split(',')
    .filter(Boolean)
    .map((t) => t.trim().toLowerCase());
  const folder = params.has('folder_id') ? Number(params.get('folder_id')) : null;
  const pinned = params.has('pinned') ? params.get('pinned') === 'true' : null;
  const archived = params.get('archived') === 'true';
  const ids = [];
  for (let c = settings.large.chats; c >= 1 && ids.length < offset + limit; c--) {
    const o = organisationOf(c);
    const keep =
      !organised ||
      (o.archived === archived &&
        (folder === null || o.folder_id === folder) &&
        (pinned === null || o.pinned === pinned) &&
        tags.every((t) => o.tags.includes(t)));
    if (keep) ids.push(c);
  }
  return ids.slice(offset);
}

/**
 * Route 1 on two chats of workload 5, and every list of workloads 6 and 7 (plus a few more shapes
 * of the filters: comma-separated and upper-case tags, pinned, archived, a later page) answer the
 * same bytes on both servers, with the chats the seeding rule puts there.
 */
async function compareLarge(gw, floor, organised) {
  for (const id of [LARGE_READ[0], LARGE_READ.at(-1)]) {
    const p = `/chats/${id}?user_id=${USER}`;
    const r = [await fetchText(gw.base, 'GET', p), await fetchText(floor.base, 'GET', p)];
    if (r[0].status !== 200 || JSON.parse(r[0].text).messages.length !== 20)
      throw new Error(`unexpected GET ${p}: ${r[0].text.slice(0, 300)}`);
    assertSame(`GET ${p} (large database)`, ...r);
  }
  const lists = [
    LARGE_LIST,
    ...(organised
      ? [
          ...LARGE_FILTERED,
          `/chats/?user_id=${USER}&limit=10&tag=Sales,Q1`,
          `/chats/?user_id=${USER}&limit=10&tag=sales&tag=q1&offset=20`,
          `/chats/?user_id=${USER}&limit=10&folder_id=2&offset=40`,
          `/chats/?user_id=${USER}&limit=10&pinned=true`,
          `/chats/?user_id=${USER}&limit=10&archived=true&tag=sales`,
          `/chats/?user_id=${USER}&limit=10&folder_id=1&tag=q2&pinned=false`,
          `/chats/?limit=10&tag=support&tag=q3`,
        ]
      : []),
  ];
  for (const p of lists) {
    const r = [await fetchText(gw.base, 'GET', p), await fetchText(floor.base, 'GET', p)];
    const want = expectedList(p, organised);
    const got = r[0].status === 200 ? JSON.parse(r[0].text).map((c) => c.chat_id) : null;
    // The measured lists must have chats to answer (the extra probes may be empty on a small database).
    const measured = p === LARGE_LIST || LARGE_FILTERED.includes(p);
    if ((measured && want.length === 0) || got?.join() !== want.join())
      throw new Error(`unexpected GET ${p}: ${r[0].status} ${r[0].text.slice(0, 300)}\n  expected chats ${want}`);
    assertSame(`GET ${p} (large database)`, ...r);
  }
  return lists.length;
}

/**
 * The storage class of every column of each table, with timestamps told apart by their format, so
 * rows written in bulk can be checked against rows the service wrote.
 */
function rowShapes(file) {
  const db = new Database(file, { readonly: true });
  try {
    const shapes = {};
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    for (const t of ['User', 'Chat', 'Message', 'Folder', 'ChatTag'].filter((name) => tables.includes(name))) {
      // Per column, its newest value that is not null ("null" when it has none), so a nullable
      // column the bulk load fills (a chat's folder) is compared with a value the service wrote.
      const cols = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t);
      shapes[t] = Object.fromEntries(
        cols.map((c) => {
          const v = db
            .prepare(`SELECT "${c}" FROM "${t}" WHERE "${c}" IS NOT NULL ORDER BY rowid DESC LIMIT 1`)
            .pluck()
            .get();
          const kind = v === undefined ? 'null' : typeof v;
          return [c, kind === 'string' && STORED_TS.test(v) ? 'timestamp' : kind];
        }),
      );
    }
    return shapes;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- load

const bodies = messagePool(64, 7).map((content, i) => JSON.stringify({ content, sender: i % 2 ? 'ai' : 'user' }));

/** The request stream of each workload; `floorSide` is what the floor serves for it. */
const WORKLOADS = [
  { id: 1, label: 'GET /chats/{id} (20 msgs)', db: 'small', kind: 'chat', ids: SMALL_READ },
  { id: 2, label: 'GET /chats/?limit=10', db: 'small', kind: 'list' },
  { id: 3, label: 'POST /chats/{id}/messages', db: 'small', kind: 'post', ids: SMALL_WRITE },
  { id: 4, label: 'POST /graphql chat (=1)', db: 'small', kind: 'graphql', floorKind: 'chat', ids: SMALL_READ },
  {
    id: 5,
    label: `GET /chats/{id}, ${settings.large.messages % 1e6 ? `${settings.large.messages / 1e3}k` : `${settings.large.messages / 1e6}M`} msgs`,
    db: 'large',
    kind: 'chat',
    ids: LARGE_READ,
  },
  {
    id: 6,
    label: `GET /chats/?limit=10, ${settings.large.chats / 1e3}k chats`,
    db: 'large',
    kind: 'paths',
    ids: [LARGE_LIST],
  },
  {
    id: 7,
    label: '(6) by 2 tags or a folder',
    db: 'large',
    kind: 'paths',
    ids: LARGE_FILTERED,
    needs: 'organisation',
  },
];

/** `ids`: chat IDs, or for `paths` the paths to request in turn. */
function requestsFor(kind, ids) {
  let n = 0;
  switch (kind) {
    case 'chat':
      return [
        {
          method: 'GET',
          setupRequest: (r) => {
            r.path = `/chats/${ids[n++ % ids.length]}?user_id=${USER}`;
            return r;
          },
        },
      ];
    case 'list':
      return [{ method: 'GET', path: `/chats/?user_id=${USER}&limit=10` }];
    case 'paths':
      return [
        {
          method: 'GET',
          setupRequest: (r) => {
            r.path = ids[n++ % ids.length];
            return r;
          },
        },
      ];
    case 'post':
      return [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (r) => {
            const k = n++;
            r.path = `/chats/${ids[k % ids.length]}/messages?user_id=${USER}`;
            r.body = bodies[k % bodies.length];
            return r;
          },
        },
      ];
    case 'graphql':
      return [
        {
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          setupRequest: (r) => {
            r.body = graphqlBody(ids[n++ % ids.length]);
            return r;
          },
        },
      ];
  }
  throw new Error(kind);
}

async function load(server, kind, ids, seconds) {
  const stopRss = watchRss(server.pid);
  const result = await autocannon({
    url: server.base,
    connections: settings.connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: requestsFor(kind, ids),
  });
  const rss = stopRss();
  assertAlive(server, 'under load');
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(
      `${server.name} ${kind}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `(${JSON.stringify(result.statusCodeStats)}):\n${tail(server.logFile)}`,
    );
  }
  return {
    rps: result['2xx'] / result.duration,
    requests: result['2xx'],
    duration_s: result.duration,
    latency_ms: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    peak_rss_bytes: rss,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function workload(w, gw, floor) {
  const floorKind = w.floorKind ?? w.kind;
  log(`workload ${w.id}: ${w.label}: warm-up ${settings.warmupS} s each`);
  await load(gw, w.kind, w.ids, settings.warmupS);
  await load(floor, floorKind, w.ids, settings.warmupS);
  const runs = { gateway: [], floor: [] };
  for (let p = 0; p < settings.pairs; p++) {
    runs.gateway.push(await load(gw, w.kind, w.ids, settings.durationS));
    runs.floor.push(await load(floor, floorKind, w.ids, settings.durationS));
    log(
      `  pair ${p + 1}/${settings.pairs}: gateway ${runs.gateway[p].rps.toFixed(0)} req/s, floor ${runs.floor[p].rps.toFixed(0)} req/s`,
    );
  }
  const summarize = (rs) => ({
    rps: median(rs.map((r) => r.rps)),
    p50_ms: median(rs.map((r) => r.latency_ms.p50)),
    p99_ms: median(rs.map((r) => r.latency_ms.p99)),
    peak_rss_bytes: rs.some((r) => r.peak_rss_bytes) ? Math.max(...rs.map((r) => r.peak_rss_bytes ?? 0)) : null,
  });
  const ratios = runs.gateway.map((g, i) => g.rps / runs.floor[i].rps);
  return {
    id: w.id,
    label: w.label,
    database: w.db,
    floor_serves: floorKind === w.kind ? 'same route' : 'REST route 1 (the floor has no GraphQL)',
    gateway: summarize(runs.gateway),
    floor: summarize(runs.floor),
    ratio_rps: median(ratios),
    ratio_rps_pairs: ratios,
    ratio_p50: median(runs.gateway.map((g, i) => g.latency_ms.p50 / runs.floor[i].latency_ms.p50)),
    runs,
  };
}

/**
 * The framework ceiling (bench/ceiling.mjs) on workloads 1 and 4: one run each after a warm-up,
 * compared with the floor's median on the same workload.
 */
async function measureCeiling(db, route1, workloads, results) {
  const wanted = workloads.filter((w) => w.id === 1 || w.id === 4);
  if (wanted.length === 0) return null;
  const server = await startServer('ceiling-small', 'ceiling', db);
  const chat = `/chats/${SMALL_READ[0]}?user_id=${USER}`;
  const rest = await fetchText(server.base, 'GET', chat);
  const graphql = await fetchText(server.base, 'POST', '/graphql', graphqlBody(SMALL_READ[0]));
  if (rest.text !== route1) throw new Error(`ceiling answers route 1 differently: ${rest.text.slice(0, 300)}`);
  if (graphql.text !== `{"data":{"chat":${rest.text}}}`)
    throw new Error(`ceiling GraphQL: ${graphql.text.slice(0, 300)}`);
  const out = [];
  for (const w of wanted) {
    log(`framework ceiling, workload ${w.id}: warm-up ${settings.warmupS} s, then ${settings.durationS} s`);
    await load(server, w.kind, w.ids, settings.warmupS);
    const run = await load(server, w.kind, w.ids, settings.durationS);
    const floor = results.find((r) => r.id === w.id)?.floor.rps;
    out.push({
      id: w.id,
      label: w.label,
      rps: run.rps,
      p50_ms: run.latency_ms.p50,
      p99_ms: run.latency_ms.p99,
      ratio_rps: floor ? run.rps / floor : null,
    });
  }
  await stopServer(server);
  return out;
}

function ceilingLine(ceiling) {
  const parts = ceiling.map(
    (c) =>
      `workload ${c.id} ${c.rps.toFixed(0)} req/s, p50 ${c.p50_ms} ms, p99 ${c.p99_ms} ms (${c.ratio_rps?.toFixed(3) ?? 'n/a'} of the floor)`,
  );
  return `Framework ceiling (graphql-yoga, the same data from memory: no Pothos, Prisma or SQLite): ${parts.join('; ')}.`;
}

// ---------------------------------------------------------------- output

function table(results) {
  const mb = (b) => (b == null ? 'n/a' : (b / 1048576).toFixed(0));
  const head = ['#', 'workload', 'server', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'gateway/floor req/s'];
  const rows = [];
  for (const r of results) {
    rows.push([
      String(r.id),
      r.label,
      'gateway',
      r.gateway.rps.toFixed(0),
      String(r.gateway.p50_ms),
      String(r.gateway.p99_ms),
      mb(r.gateway.peak_rss_bytes),
      r.ratio_rps.toFixed(3),
    ]);
    rows.push([
      '',
      '',
      r.floor_serves === 'same route' ? 'floor' : 'floor (1)',
      r.floor.rps.toFixed(0),
      String(r.floor.p50_ms),
      String(r.floor.p99_ms),
      mb(r.floor.peak_rss_bytes),
      '',
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = [false, false, false, true, true, true, true, true];
  const fmt = (r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: gwDir, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: gwDir,
        encoding: 'utf8',
      }).trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- main

async function main() {
  log(`gateway: ${gwDir}`);
  log(
    `client (autocannon, in this process) and servers share this machine: ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  const timings = {};
  const loadBefore = os.loadavg();
  log(
    `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')} (other work on the machine skews the numbers)`,
  );

  if (process.env.BENCH_SKIP_BUILD !== '1') {
    const t = performance.now();
    run('npm', ['run', 'build'], { cwd: gwDir });
    timings.build_s = (performance.now() - t) / 1000;
    log(`built the gateway (npm run build) in ${timings.build_s.toFixed(1)} s`);
  }
  if (!fs.existsSync(path.join(gwDir, 'dist/src/index.js')))
    throw new Error(`no ${gwDir}/dist/src/index.js: run npm run build`);

  // Small database, through the service's own REST API.
  const smallGw = path.join(work, 'small-gateway.db');
  const smallFloor = path.join(work, 'small-floor.db');
  let t = performance.now();
  migrate(smallGw);
  // Chat organisation (folders, tags, pins, archive) is in the gateway's schema since its migrations.
  const organised = (() => {
    const db = new Database(smallGw, { readonly: true });
    try {
      const cols = db.prepare(`SELECT name FROM pragma_table_info('Chat')`).pluck().all();
      return ['folder_id', 'pinned', 'archived', 'updated_at'].every((c) => cols.includes(c));
    } finally {
      db.close();
    }
  })();
  const seeder = await startServer('seed-gateway', 'gateway', smallGw);
  await seedThroughApi(seeder.base, {
    chats: settings.small.chats,
    perChat: settings.small.messagesPerChat,
    organise: organised,
  }).catch((error) => {
    assertAlive(seeder, 'while seeding');
    throw error;
  });
  await stopServer(seeder);
  timings.seed_small_s = (performance.now() - t) / 1000;
  {
    const db = new Database(smallGw);
    const counts = ['User', 'Chat', 'Message'].map((tb) => db.prepare(`SELECT count(*) AS n FROM "${tb}"`).get().n);
    const sample = db.prepare('SELECT timestamp FROM "Message" ORDER BY message_id LIMIT 1').get().timestamp;
    const chatTs = db.prepare('SELECT created_at FROM "Chat" ORDER BY chat_id LIMIT 1').get().created_at;
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const want = [settings.small.users, settings.small.chats, settings.small.chats * settings.small.messagesPerChat];
    if (counts.join() !== want.join()) throw new Error(`small database has ${counts} rows, expected ${want}`);
    // The bulk path writes timestamps in the format the service itself stored.
    for (const s of [sample, chatTs]) {
      if (typeof s !== 'string' || !STORED_TS.test(s)) {
        throw new Error(
          `the service stores timestamps as ${JSON.stringify(s)}; bench/seed.mjs writes ${STORED_TS}: update it`,
        );
      }
    }
    log(
      `small database seeded through the REST API in ${timings.seed_small_s.toFixed(1)} s: ${counts[0]} user, ${counts[1]} chats, ${counts[2]} messages (stored timestamps look like "${sample}")`,
    );
  }
  fs.copyFileSync(smallGw, smallFloor);

  // Large database: migrated by the service's migrations, then filled in bulk.
  const largeWorkloads = WORKLOADS.filter((w) => w.db === 'large' && (!only || only.has(w.id))).filter((w) => {
    if (w.needs !== 'organisation' || organised) return true;
    log(`workload ${w.id} skipped: this gateway's schema has no chat organisation (folders, tags, archive)`);
    return false;
  });
  const runLarge = largeWorkloads.length > 0;
  const large = path.join(work, 'large.db');
  if (runLarge) {
    migrate(large);
    t = performance.now();
    const seeded = seedBulk(Database, large, {
      chats: settings.large.chats,
      messages: settings.large.messages,
      readSet: LARGE_READ,
    });
    if (seeded.organised !== organised) throw new Error('the large and small databases differ in chat organisation');
    timings.seed_large_s = (performance.now() - t) / 1000;
    const service = JSON.stringify(rowShapes(smallGw));
    const bulk = JSON.stringify(rowShapes(large));
    if (service !== bulk) {
      throw new Error(
        `rows written in bulk do not look like the service's:\n  service: ${service}\n  bulk:    ${bulk}`,
      );
    }
    log(
      `large database seeded in bulk (better-sqlite3, 50,000 rows per transaction) in ${timings.seed_large_s.toFixed(1)} s: ` +
        `${settings.large.chats} chats${organised ? ` (organised: ${FOLDERS.length} folders, tags, pins, archive)` : ''}, ${settings.large.messages} messages, ${(fs.statSync(large).size / 2 ** 20).toFixed(0)} MiB; ` +
        'its rows have the same column types and timestamp format as rows the service wrote',
    );
  }

  const results = [];
  let ceiling = null;
  const smallWorkloads = WORKLOADS.filter((w) => w.db === 'small' && (!only || only.has(w.id)));
  if (smallWorkloads.length) {
    const gw = await startServer('gateway-small', 'gateway', smallGw);
    const floor = await startServer('floor-small', 'floor', smallFloor);
    const route1 = await compareSmall(gw, floor);
    log(
      'routes 1-3 answer byte-identical JSON on gateway and floor (POST: timestamp value aside); GraphQL carries the same body',
    );
    for (const w of smallWorkloads) results.push(await workload(w, gw, floor));
    await stopServer(gw);
    await stopServer(floor);
    ceiling = await measureCeiling(smallGw, route1, smallWorkloads, results);
  }
  if (runLarge) {
    // Read-only workloads: both servers open the same file.
    const gw = await startServer('gateway-large', 'gateway', large);
    const floor = await startServer('floor-large', 'floor', large);
    const lists = await compareLarge(gw, floor, organised);
    log(
      `routes 1 and 2 answer byte-identical JSON on the large database (route 2: ${lists} lists${organised ? ', filtered ones included' : ''}, each with the chats the seeding rule puts there)`,
    );
    for (const w of largeWorkloads) results.push(await workload(w, gw, floor));
    await stopServer(gw);
    await stopServer(floor);
  }

  timings.total_s = (performance.now() - wallStart) / 1000;
  const loadAfter = os.loadavg();
  const printed = table(results);
  console.log('');
  console.log(
    `chat-gateway vs floor: ${settings.connections} connections, ${settings.pairs} x ${settings.durationS} s per server per workload ` +
      `(alternating gateway/floor, after ${settings.warmupS} s warm-ups); medians of the runs; ratio = median of the per-pair ratios.`,
  );
  console.log(
    `Load generator (autocannon, in the harness process) and servers share this ${os.cpus().length}-CPU machine over loopback; latencies have 1 ms resolution.`,
  );
  console.log(printed);
  if (ceiling) console.log(ceilingLine(ceiling));
  console.log(
    `(1) the floor has no GraphQL: workload 4 compares against the floor serving route 1.  ` +
      `Large database seeded in ${timings.seed_large_s?.toFixed(1) ?? '-'} s; total ${timings.total_s.toFixed(0)} s; ` +
      `load average ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} (1 min) / ${loadAfter[2].toFixed(1)} (15 min) after.`,
  );

  const out = {
    date: new Date().toISOString(),
    gateway_dir: gwDir,
    gateway_git: gitInfo(),
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model,
      mem_bytes: os.totalmem(),
      note: 'load generator (autocannon, in the harness process) and servers share the machine over loopback',
      loadavg_before: loadBefore,
      loadavg_after: loadAfter,
    },
    settings,
    timings,
    results,
    ceiling,
    table: printed,
  };
  const dir = path.join(benchDir, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${out.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  if (timings.total_s > 600) console.log(`WARNING: took ${timings.total_s.toFixed(0)} s, over the 10-minute budget`);
}

main()
  .then(() => {
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  })
  .catch((error) => {
    console.error(`\nBENCHMARK FAILED: ${error.stack ?? error}`);
    console.error(`(databases and server logs kept in ${work})`);
    killAll();
    process.exit(1);
  });
