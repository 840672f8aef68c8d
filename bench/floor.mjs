// The floor: the least a Node.js server on this machine does to serve the benchmark's three REST
// routes from the same SQLite file, with the same JSON bytes as the gateway. A measuring stick for
// the benchmark, not part of the product.
//
//   FLOOR_DB=/abs/file.db PORT=4100 HOST=127.0.0.1 [BETTER_SQLITE3=/path/to/better-sqlite3] node bench/floor.mjs
//
// Routes: GET /chats/{id}?user_id=, GET /chats/?user_id=&limit=&offset=&folder_id=&tag=&pinned=&archived=,
// POST /chats/{id}/messages?user_id= (plus GET /health for the harness). Same access rule as the
// gateway: with user_id, only that user's chats and anonymous chats; otherwise 404 with the
// gateway's message. The list's filters are the gateway's: a folder, tags (repeated or
// comma-separated, trimmed and lower-cased: chats having all of them), pinned, and archived
// (default false: archived chats left out), where the schema has them.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require(process.env.BETTER_SQLITE3 || 'better-sqlite3');

const file = process.env.FLOOR_DB;
if (!file) throw new Error('FLOOR_DB is required');
const port = Number(process.env.PORT || 4100);
const host = process.env.HOST || '127.0.0.1';

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');

const chatById = db.prepare('SELECT chat_id, title, created_at, user_id FROM "Chat" WHERE chat_id = ?');
const chatByIdFor = db.prepare(
  'SELECT chat_id, title, created_at, user_id FROM "Chat" WHERE chat_id = ? AND (user_id IS NULL OR user_id = ?)',
);
const messagesOf = db.prepare(
  'SELECT message_id, chat_id, content, sender, timestamp FROM "Message" WHERE chat_id = ? ORDER BY timestamp ASC, message_id ASC',
);
const chatColumns = db.prepare(`SELECT name FROM pragma_table_info('Chat')`).pluck().all();
// Since the organise-chats migrations the list filters by folder, tags, pin and archive.
const organised = ['folder_id', 'pinned', 'archived'].every((c) => chatColumns.includes(c));

/**
 * The list's statement for one shape of filter (which filters are given, how many tags), prepared
 * once: each tag an EXISTS on ChatTag's primary key (chat_id, tag).
 */
const listStatements = new Map();
function listStatement(user, folder, pinned, archived, tags) {
  const key = `${user}${folder}${pinned}${archived}${tags}`;
  let stmt = listStatements.get(key);
  if (!stmt) {
    const where = [
      ...(user ? ['user_id = ?'] : []),
      ...(archived ? ['archived = ?'] : []),
      ...(folder ? ['folder_id = ?'] : []),
      ...(pinned ? ['pinned = ?'] : []),
      ...Array.from(
        { length: tags },
        () => 'EXISTS (SELECT 1 FROM "ChatTag" t WHERE t.chat_id = c.chat_id AND t.tag = ?)',
      ),
    ];
    stmt = db.prepare(
      `SELECT chat_id, user_id, title, created_at FROM "Chat" c ${where.length ? `WHERE ${where.join(' AND ')} ` : ''}` +
        'ORDER BY created_at DESC, chat_id DESC LIMIT ? OFFSET ?',
    );
    listStatements.set(key, stmt);
  }
  return stmt;
}
const chatExists = db.prepare('SELECT 1 FROM "Chat" WHERE chat_id = ?').pluck();
const chatExistsFor = db.prepare('SELECT 1 FROM "Chat" WHERE chat_id = ? AND (user_id IS NULL OR user_id = ?)').pluck();
// Since the live-updates migration the gateway also stamps the chat with its last message time;
// the floor does the same write (in one transaction with the insert) where the column exists.
// Since migration message_moves_last_message_at a trigger on "Message" does that write within the
// insert, for the floor as for the gateway: then the floor leaves it to the trigger.
const hasLastMessageAt = chatColumns.includes('last_message_at');
const triggerMovesIt = db
  .prepare(
    `SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'Message' AND sql LIKE '%last_message_at%'`,
  )
  .pluck()
  .get();
const touchChat =
  hasLastMessageAt && !triggerMovesIt ? db.prepare('UPDATE "Chat" SET last_message_at = ? WHERE chat_id = ?') : null;
const insertMessage = db.prepare(
  'INSERT INTO "Message" (chat_id, content, sender, timestamp) VALUES (?, ?, ?, ?) RETURNING message_id, chat_id, content, sender, timestamp',
);

const addAndTouch = db.transaction((id, content, sender, ts) => {
  const row = insertMessage.get(id, content, sender, ts);
  touchChat?.run(ts, id);
  return row;
});

/** Stored '2026-11-25T09:00:00.000+00:00' -> '2026-11-25T09:00:00.000Z', as the gateway's DateTime scalar does. */
const iso = (s) => (s.length === 29 && s.endsWith('+00:00') ? `${s.slice(0, 23)}Z` : new Date(s).toISOString());
const stored = () => new Date().toISOString().replace('Z', '+00:00');

const INT = /^-?\d{1,10}$/;
const int32 = (s) => (s != null && INT.test(s) && Math.abs(Number(s)) <= 2147483647 ? Number(s) : undefined);

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
const notFound = (res, id) => send(res, 404, { detail: `Chat with ID ${id} not found or access denied` });
const bad = (res, detail) => send(res, 422, { detail });

/** user_id from the query string: absent -> null, invalid -> undefined. */
function userIdOf(params) {
  const raw = params.get('user_id');
  return raw === null || raw === '' ? null : int32(raw);
}

function getChat(res, id, params) {
  const userId = userIdOf(params);
  if (userId === undefined) return bad(res, 'user_id must be an integer');
  const chat = userId === null ? chatById.get(id) : chatByIdFor.get(id, userId);
  if (!chat) return notFound(res, id);
  const messages = messagesOf.all(id);
  for (const m of messages) m.timestamp = iso(m.timestamp);
  send(res, 200, {
    chat_id: chat.chat_id,
    title: chat.title,
    created_at: iso(chat.created_at),
    user_id: chat.user_id,
    messages,
  });
}

/** A Boolean from the query string: absent -> null, invalid -> undefined. */
function boolOf(params, name) {
  const raw = params.get(name);
  return raw === null ? null : raw === 'true' ? true : raw === 'false' ? false : undefined;
}

function listChats(res, params) {
  const userId = userIdOf(params);
  const limit = params.has('limit') ? int32(params.get('limit')) : 10;
  const offset = params.has('offset') ? int32(params.get('offset')) : 0;
  if (userId === undefined) return bad(res, 'user_id must be an integer');
  if (limit === undefined || limit < 1 || limit > 100) return bad(res, 'limit must be from 1 to 100');
  if (offset === undefined || offset < 0) return bad(res, 'offset must not be negative');
  const args = userId === null ? [] : [userId];
  let folder = false;
  let pinned = null;
  let tags = [];
  if (organised) {
    folder = params.has('folder_id');
    const folderId = folder ? int32(params.get('folder_id')) : null;
    pinned = boolOf(params, 'pinned');
    const archived = boolOf(params, 'archived') ?? false;
    if (folderId === undefined) return bad(res, 'folder_id must be an integer');
    if (pinned === undefined || archived === undefined) return bad(res, 'pinned and archived must be true or false');
    const given = params.getAll('tag').join(',').split(',').filter(Boolean);
    if (given.length > 20) return bad(res, 'tag: at most 20');
    tags = [...new Set(given.map((t) => t.trim().toLowerCase()))];
    if (tags.some((t) => t === '' || t.length > 32 || t.includes('\0'))) return bad(res, 'tag: invalid');
    args.push(archived ? 1 : 0);
    if (folder) args.push(folderId);
    if (pinned !== null) args.push(pinned ? 1 : 0);
    args.push(...tags);
  }
  const stmt = listStatement(userId !== null, folder, pinned !== null, organised, tags.length);
  const rows = stmt.all(...args, limit, offset);
  for (const r of rows) r.created_at = iso(r.created_at);
  send(res, 200, rows);
}

function addMessage(req, res, id, params) {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 1_048_576) chunks.push(c);
  });
  req.on('end', () => {
    if (size > 1_048_576) return send(res, 413, { detail: 'Request body too large' });
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return bad(res, 'Malformed JSON body');
    }
    const userId = userIdOf(params);
    if (userId === undefined) return bad(res, 'user_id must be an integer');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return bad(res, 'Body must be a JSON object');
    const { content, sender } = body;
    if (typeof content !== 'string' || content.trim() === '' || content.length > 100_000)
      return bad(res, 'content: invalid');
    if (sender !== 'user' && sender !== 'ai') return bad(res, 'sender must be "user" or "ai"');
    const exists = userId === null ? chatExists.get(id) : chatExistsFor.get(id, userId);
    if (!exists) return notFound(res, id);
    const row = addAndTouch(id, content, sender, stored());
    row.timestamp = iso(row.timestamp);
    send(res, 200, row);
  });
}

const CHAT = /^\/chats\/(-?\d+)$/;
const MESSAGES = /^\/chats\/(-?\d+)\/messages$/;

const server = createServer((req, res) => {
  try {
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    const params = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
    if (req.method === 'GET' && (path === '/chats/' || path === '/chats')) return listChats(res, params);
    const chat = req.method === 'GET' ? CHAT.exec(path) : null;
    if (chat) {
      const id = int32(chat[1]);
      return id === undefined ? bad(res, 'chat_id must be a 32-bit integer') : getChat(res, id, params);
    }
    const messages = req.method === 'POST' ? MESSAGES.exec(path) : null;
    if (messages) {
      const id = int32(messages[1]);
      return id === undefined ? bad(res, 'chat_id must be a 32-bit integer') : addMessage(req, res, id, params);
    }
    if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok' });
    send(res, 404, { detail: 'Not Found' });
  } catch (error) {
    console.error(error);
    if (!res.headersSent) send(res, 500, { detail: 'Internal Server Error' });
  }
});
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => console.log(`floor listening on http://${host}:${port} (${file})`));

const stop = () => {
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
