// Seeding for the benchmark: the small database through the gateway's own REST API, the large one
// in bulk with better-sqlite3 straight into the migrated schema.

/** Deterministic PRNG (mulberry32), so every run seeds the same text. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'revenue month quarter plot the a of by and for with region sales growth churn cohort average median ' +
  'customer segment forecast table column chart trend year compare show me please could you total ' +
  'weekly daily breakdown product category top ten rows filter where group order descending margin ' +
  'cost price dataset csv upload analysis regression outlier correlation summary explain why drop spike'
).split(' ');

/** A pool of distinct message texts of about 200 characters (180 to 221). */
export function messagePool(size = 997, seed = 42) {
  const rand = prng(seed);
  const pool = [];
  for (let i = 0; i < size; i++) {
    const target = 180 + Math.floor(rand() * 41);
    let s = '';
    while (s.length < target) s += `${s ? ' ' : ''}${WORDS[Math.floor(rand() * WORDS.length)]}`;
    s = s.slice(0, target).trimEnd();
    pool.push(`${s[0].toUpperCase()}${s.slice(1)}.`);
  }
  return pool;
}

async function call(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`seed: ${method} ${path} -> ${res.status} ${text}`);
  return JSON.parse(text);
}

/**
 * 1 user, `chats` chats, `perChat` messages each, through POST /chats/users, POST /chats/ and
 * POST /chats/{id}/messages. Chats are created one by one (so their order is the id order);
 * messages go `concurrency` chats at a time, each chat's messages in order. With `organise`, the
 * service also writes one row of each organisation table (POST /folders twice, one nested, and
 * PUT /chats/{last} into it with tags and a pin; not archived, so every list answer stays the same),
 * for the check that rows written in bulk look like the service's.
 */
export async function seedThroughApi(base, { chats = 200, perChat = 20, concurrency = 8, organise = false } = {}) {
  const pool = messagePool();
  const user = await call(base, 'POST', '/chats/users', { username: 'bench', email: 'bench@example.com' });
  const ids = [];
  for (let i = 0; i < chats; i++) ids.push((await call(base, 'POST', '/chats/', { user_id: user.user_id })).chat_id);
  let next = 0;
  let n = 0;
  const worker = async () => {
    while (next < ids.length) {
      const chatId = ids[next++];
      for (let m = 0; m < perChat; m++) {
        const sender = m % 2 === 0 ? 'user' : 'ai';
        await call(base, 'POST', `/chats/${chatId}/messages?user_id=${user.user_id}`, {
          content: pool[n++ % pool.length],
          sender,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (organise) {
    const top = await call(base, 'POST', '/folders', { user_id: user.user_id, name: 'Bench' });
    const sub = await call(base, 'POST', '/folders', {
      user_id: user.user_id,
      name: 'Bench Q1',
      parent_id: top.folder_id,
    });
    await call(base, 'PUT', `/chats/${ids.at(-1)}`, {
      folder_id: sub.folder_id,
      tags: ['Sales', 'q1'],
      pinned: true,
    });
  }
  return { userId: user.user_id, chatIds: ids };
}

/** The stored timestamp format the service writes (checked against its own rows before bulk seeding). */
export const STORED_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;
export const storedTs = (ms) => new Date(ms).toISOString().replace('Z', '+00:00');

/** User 1's folders in the large database (folder_id, name, parent_id); "Q1 review" sits in "Sales". */
export const FOLDERS = [
  [1, 'Sales', null],
  [2, 'Reports', null],
  [3, 'Research', null],
  [4, 'Q1 review', 1],
];

/**
 * A large-database chat's organisation, from its ID alone (the harness computes the expected
 * lists from it): every 20th chat in a folder (the four in turn, so about 125 chats each), tag
 * "sales" on every 10th and "support" on every 10th from 5, one of "q1", "q2", "q3" on every chat
 * (q1 on every 3rd), every 100th pinned, every 7th archived. A team tag and a quarter tag together
 * match every 30th chat (about 333, of which 6 in 7 are not archived).
 */
export function organisationOf(c) {
  const tags = [];
  if (c % 10 === 0) tags.push('sales');
  if (c % 10 === 5) tags.push('support');
  tags.push(`q${(c % 3) + 1}`);
  return {
    folder_id: c % 20 === 0 ? ((c / 20) % FOLDERS.length) + 1 : null,
    tags,
    pinned: c % 100 === 0,
    archived: c % 7 === 0,
  };
}

/**
 * The large database, straight into the migrated (empty) schema: 1 user, `chats` chats,
 * `messages` messages in total. The chats in `readSet` get exactly `readPerChat` messages (the
 * same shape as the small database, so workload 5 is workload 1 on a bigger table); the others
 * share the rest. Messages are inserted round-robin across chats with a rising clock, as live
 * chats interleave, so one chat's rows are spread over the table. The Message indexes are dropped
 * during the load and re-created from their own SQL (sqlite_master) afterwards. Where the schema has
 * the organisation columns (folders, tags, pins, archive), the chats are organised by
 * `organisationOf`, with `updated_at` a day after their creation.
 */
export function seedBulk(
  Database,
  file,
  { chats = 10_000, messages = 1_000_000, readSet, readPerChat = 20, batch = 50_000 },
) {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144'); // 256 MiB
    db.pragma('foreign_keys = OFF');
    const written = {
      User: ['user_id', 'username', 'email', 'created_at'],
      Chat: ['chat_id', 'user_id', 'title', 'created_at'],
      Message: ['chat_id', 'content', 'sender', 'timestamp'],
    };
    for (const [t, cols] of Object.entries(written)) {
      const { n } = db.prepare(`SELECT count(*) AS n FROM "${t}"`).get();
      if (n !== 0) throw new Error(`seedBulk: table "${t}" is not empty`);
      // A new required column without a default needs a value here: say so instead of failing on insert.
      const required = db
        .prepare('SELECT name FROM pragma_table_info(?) WHERE "notnull" = 1 AND dflt_value IS NULL AND pk = 0')
        .pluck()
        .all(t)
        .filter((c) => !cols.includes(c));
      if (required.length) throw new Error(`seedBulk: "${t}" has required columns it does not fill: ${required}`);
    }
    const chatColumns = db.prepare(`SELECT name FROM pragma_table_info('Chat')`).pluck().all();
    const organise = ['folder_id', 'pinned', 'archived', 'updated_at'].every((c) => chatColumns.includes(c));
    if (organise) {
      for (const t of ['Folder', 'ChatTag']) {
        const { n } = db.prepare(`SELECT count(*) AS n FROM "${t}"`).get();
        if (n !== 0) throw new Error(`seedBulk: table "${t}" is not empty`);
      }
    }
    const read = new Set(readSet);
    const others = chats - read.size;
    const rest = messages - read.size * readPerChat;
    if (others <= 0 || rest < 0) throw new Error('seedBulk: inconsistent sizes');
    const counts = new Int32Array(chats + 1);
    let extra = rest % others;
    for (let c = 1; c <= chats; c++) {
      if (read.has(c)) counts[c] = readPerChat;
      else counts[c] = Math.floor(rest / others) + (extra-- > 0 ? 1 : 0);
    }
    const maxPer = Math.max(...counts);
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    let clock = t0;

    const indexes = db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Message' AND sql IS NOT NULL`)
      .all();
    for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);

    db.prepare(
      `INSERT INTO "User" (user_id, username, email, created_at) VALUES (1, 'bench', 'bench@example.com', ?)`,
    ).run(storedTs(clock++));
    if (organise) {
      const insFolder = db.prepare(
        `INSERT INTO "Folder" (folder_id, user_id, name, parent_id, created_at) VALUES (?, 1, ?, ?, ?)`,
      );
      db.transaction(() => {
        for (const [id, name, parent] of FOLDERS) insFolder.run(id, name, parent, storedTs(clock++));
      })();
    }
    const insChat = organise
      ? db.prepare(
          `INSERT INTO "Chat" (chat_id, user_id, title, created_at, folder_id, pinned, archived, updated_at) VALUES (?, 1, 'New Chat', ?, ?, ?, ?, ?)`,
        )
      : db.prepare(`INSERT INTO "Chat" (chat_id, user_id, title, created_at) VALUES (?, 1, 'New Chat', ?)`);
    const insTag = organise ? db.prepare(`INSERT INTO "ChatTag" (chat_id, tag) VALUES (?, ?)`) : null;
    db.transaction(() => {
      for (let c = 1; c <= chats; c++) {
        clock += 10;
        if (!organise) {
          insChat.run(c, storedTs(clock));
          continue;
        }
        const o = organisationOf(c);
        insChat.run(
          c,
          storedTs(clock),
          o.folder_id,
          o.pinned ? 1 : 0,
          o.archived ? 1 : 0,
          storedTs(clock + 86_400_000),
        );
        for (const tag of o.tags) insTag.run(c, tag);
      }
    })();

    const pool = messagePool();
    // Since branches, each message the service adds answers the one before it (its parent_id).
    const threaded = db.prepare(`SELECT name FROM pragma_table_info('Message')`).pluck().all().includes('parent_id');
    const insMsg = threaded
      ? db.prepare(`INSERT INTO "Message" (chat_id, content, sender, timestamp, parent_id) VALUES (?, ?, ?, ?, ?)`)
      : db.prepare(`INSERT INTO "Message" (chat_id, content, sender, timestamp) VALUES (?, ?, ?, ?)`);
    const lastOf = new Float64Array(chats + 1);
    let n = 0;
    let pending = [];
    const flush = db.transaction((rows) => {
      for (const r of rows) {
        if (!threaded) {
          insMsg.run(r[0], r[1], r[2], r[3]);
          continue;
        }
        const { lastInsertRowid } = insMsg.run(r[0], r[1], r[2], r[3], lastOf[r[0]] || null);
        lastOf[r[0]] = Number(lastInsertRowid);
      }
    });
    for (let round = 0; round < maxPer; round++) {
      const sender = round % 2 === 0 ? 'user' : 'ai';
      for (let c = 1; c <= chats; c++) {
        if (round >= counts[c]) continue;
        clock += 3;
        pending.push([c, pool[n++ % pool.length], sender, storedTs(clock)]);
        if (pending.length === batch) {
          flush(pending);
          pending = [];
        }
      }
    }
    if (pending.length) flush(pending);
    for (const { sql } of indexes) db.exec(sql);
    // The service keeps each chat's last message time (since the live-updates migration).
    if (chatColumns.includes('last_message_at')) {
      db.exec(
        `UPDATE "Chat" SET last_message_at = (SELECT max(timestamp) FROM "Message" m WHERE m.chat_id = "Chat".chat_id)`,
      );
    }
    db.pragma('journal_mode = WAL');
    return { messages: n, organised: organise };
  } finally {
    db.close();
  }
}
