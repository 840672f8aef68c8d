// Property-based tests: random and hostile input at every REST route of src/rest/routes.ts and at every
// GraphQL mutation. Whatever comes in: no 500 (no INTERNAL_SERVER_ERROR on /graphql), REST errors
// are 4xx {"detail": string}, a refused request leaves every table as it was, and accepted text
// (message content, chat title, username) reads back exactly.
import { isUtf8 } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { isNonNullType } from 'graphql';
import { getDatamodel } from '../../src/generated/pothos-types';
import { schema } from '../../src/graphql/schema';
import { type CompiledRoute, compileRoutes } from '../../src/rest/compile';
import { routes } from '../../src/rest/routes';
import {
  badUtf8InString,
  extraKey,
  graphqlTypeName,
  hostileBodyBytes,
  hostileGraphqlLiteral,
  hostileHeader,
  hostileJson,
  hostileQueryValue,
  hostileSegment,
  validHostileText,
} from '../support/fuzz-inputs';
import { db, gateway, testConfig } from '../support/gateway';
import { newChat, newUser, readReply } from '../support/http';

const RUNS = { oneField: 50, random: 30, paths: 100, graphqlOneVar: 45, graphqlRandom: 30, validText: 40 };

// ---------------------------------------------------------------------------------------------
// Requests, replies and database snapshots

type Reply = { status: number; text: string; json: any; contentType: string };

const utf8 = new TextEncoder();
// Lenient (U+FFFD, BOM dropped), to show bodies; the server refuses bodies that are not UTF-8.
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function send(method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers };
  if (body !== undefined && method !== 'GET' && method !== 'HEAD') init.body = new Uint8Array(body);
  const reply = await readReply(await gateway().yoga.fetch(`http://localhost${path}`, init));
  return { ...reply, contentType: reply.headers.get('content-type') ?? '' } as Reply;
}

// Every table of the Prisma schema (User, Chat, Message, ModelUsage, and any added since), in
// the order of its key (one ID field, or the fields of a composite key such as ChatTag's).
const tables = Object.entries(getDatamodel().datamodel.models).map(([name, model]) => {
  const id = model.fields.find((f) => f.isId)?.name;
  const key = id ? [id] : ((model.primaryKey?.fields ?? []) as string[]);
  return {
    name,
    delegate: name.charAt(0).toLowerCase() + name.slice(1),
    orderBy: key.map((field) => ({ [field]: 'asc' })),
  };
});

type Snapshot = Record<string, any[]> & { User: any[]; Chat: any[] };

async function snapshot(): Promise<Snapshot> {
  const delegates = db() as unknown as Record<string, { findMany(args: object): Promise<any[]> }>;
  const rows = await Promise.all(
    tables.map((t) => (delegates[t.delegate] as (typeof delegates)[string]).findMany({ orderBy: t.orderBy })),
  );
  return Object.fromEntries(tables.map((t, i) => [t.name, rows[i] as any[]])) as Snapshot;
}

function assertUnchanged(before: Snapshot, after: Snapshot, what: string) {
  if (isDeepStrictEqual(before, after)) return;
  const diff = Object.keys(before)
    .filter((table) => !isDeepStrictEqual(before[table], after[table]))
    .map((table) => `${table} (${before[table]?.length} -> ${after[table]?.length} rows)`);
  throw new Error(`the database changed after a refused request (${what}): ${diff.join(', ')}`);
}

const show = (s: string) => (s.length > 300 ? `${JSON.stringify(s.slice(0, 300))}... (${s.length} chars)` : s);

/** The REST error contract: a 4xx with a JSON body of exactly {"detail": string}. */
function assertRestError(reply: Reply, what: string) {
  if (reply.status < 400 || reply.status >= 500) throw new Error(`${what}: HTTP ${reply.status} ${show(reply.text)}`);
  const ok =
    /application\/json/.test(reply.contentType) &&
    reply.json !== null &&
    typeof reply.json === 'object' &&
    isDeepStrictEqual(Object.keys(reply.json), ['detail']) &&
    typeof reply.json.detail === 'string';
  if (!ok) throw new Error(`${what}: HTTP ${reply.status} without a {"detail": string} body: ${show(reply.text)}`);
}

let cases = 0;
let accepted = 0;
let roundTrips = 0;
const casesBy: Record<string, number> = {};
const count = (kind: string) => {
  cases++;
  casesBy[kind] = (casesBy[kind] ?? 0) + 1;
};

// ---------------------------------------------------------------------------------------------
// The world every case starts from

let owner: { user_id: number };
let other: { user_id: number };
let ownerChat: number;
let anonChat: number;
let fresh = 0;

beforeAll(async () => {
  owner = await newUser('fuzz-owner');
  other = await newUser('fuzz-other');
  ownerChat = (await newChat(owner.user_id)).chat_id;
  anonChat = (await newChat()).chat_id;
  // Chats with a message survive every cleanup the fuzzer may trigger.
  for (const chat_id of [ownerChat, anonChat]) {
    await db().message.create({ data: { chat_id, content: 'seed', sender: 'user' } });
  }
});

afterAll(() => {
  const detail = Object.entries(casesBy)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const db = process.env.DATABASE_URL?.startsWith('file:') ? 'SQLite' : 'PostgreSQL';
  console.log(
    `fuzz: ${cases} cases on ${db} (${detail}); ${accepted} accepted, ${roundTrips} text round-trips checked`,
  );
});

/**
 * The owner's chat and the anonymous chat, as baselines use them. A hostile path segment such as
 * "1" is a valid chat ID, so a case may have deleted, moved or emptied them: then they are remade.
 */
async function stableChats(): Promise<{ ownerChat: number; anonChat: number }> {
  const [mine, anon] = await Promise.all([
    db().chat.findFirst({ where: { chat_id: ownerChat, user_id: owner.user_id, messages: { some: {} } } }),
    db().chat.findFirst({ where: { chat_id: anonChat, user_id: null, messages: { some: {} } } }),
  ]);
  const seeded = (user_id: number | null) =>
    db().chat.create({ data: { user_id, messages: { create: { content: 'seed', sender: 'user' } } } });
  if (!mine) ownerChat = (await seeded(owner.user_id)).chat_id;
  if (!anon) anonChat = (await seeded(null)).chat_id;
  return { ownerChat, anonChat };
}

/** A message of a chat, to name a branch by (the seed message every stable chat keeps). */
async function firstMessageOf(chatId: number): Promise<number> {
  const m = await db().message.findFirstOrThrow({ where: { chat_id: chatId }, orderBy: { message_id: 'asc' } });
  return m.message_id;
}

let sincePurge = 0;

/**
 * Every 25 cases, deletes what the cases wrote, keeping the two users and the two seeded chats:
 * the snapshots stay small and fast. Called before a case builds its request, never during one.
 */
async function maybePurge(): Promise<void> {
  if (++sincePurge < 25) return;
  sincePurge = 0;
  const core = ['User', 'Chat', 'Message', 'ModelUsage'];
  const delegates = db() as unknown as Record<string, { deleteMany(args: object): Promise<unknown> }>;
  for (const t of tables.filter((t) => !core.includes(t.name))) await delegates[t.delegate]?.deleteMany({});
  await db().modelUsage.deleteMany({});
  await db().chat.deleteMany({ where: { chat_id: { notIn: [ownerChat, anonChat] } } });
  await db().message.deleteMany({ where: { content: { not: 'seed' } } });
  await db().user.deleteMany({ where: { user_id: { notIn: [owner.user_id, other.user_id] } } });
}

/** A chat of the owner, with one message, that a case may rename, move or delete. */
async function disposableChat(): Promise<number> {
  const chat = await db().chat.create({
    data: { user_id: owner.user_id, messages: { create: { content: 'keep me', sender: 'ai' } } },
  });
  return chat.chat_id;
}

/** An AI answer in a chat of the owner's, for feedback; with `rated`, feedback on it already. */
async function disposableAnswer(rated = false): Promise<{ chat_id: number; message_id: number }> {
  const chat = await db().chat.create({
    data: { user_id: owner.user_id, messages: { create: { content: 'an answer', sender: 'ai' } } },
    select: { chat_id: true, messages: { select: { message_id: true } } },
  });
  const message_id = chat.messages[0]?.message_id as number;
  if (rated) await db().messageFeedback.create({ data: { message_id, chat_id: chat.chat_id, rating: 'up' } });
  return { chat_id: chat.chat_id, message_id };
}

/** A folder of the owner's that a case may rename, move or delete; the owner stays under the folder cap. */
async function disposableFolder(): Promise<number> {
  if ((await db().folder.count({ where: { user_id: owner.user_id } })) > 500) {
    await db().folder.deleteMany({ where: { user_id: owner.user_id } });
  }
  return (await db().folder.create({ data: { user_id: owner.user_id, name: 'fuzz folder' } })).folder_id;
}

/** A budget (of a user of its own) that a case may delete or read the alerts of. */
async function disposableBudget(): Promise<number> {
  const user = await db().user.create({
    data: { username: 'fuzz budget', email: `budget-${process.pid}-${++fresh}@x.io` },
  });
  const budget = await db().budget.create({
    data: {
      scope: 'user',
      user_id: user.user_id,
      subject: `user:${user.user_id}`,
      period: 'day',
      limit_micros: 5_000_000n,
      alert_percents: '[50,80,100]',
    },
  });
  return budget.budget_id;
}

/** A share link of the owner's stable chat that a case may revoke or read. */
async function disposableShare(): Promise<{ chat_id: number; share_id: number; token: string }> {
  const chat_id = (await stableChats()).ownerChat;
  const token = `fuzz${String(++fresh).padStart(39, '0')}`;
  const share = await db().chatShare.create({ data: { chat_id, token, title: 'Shared', snapshot: '[]' } });
  return { chat_id, share_id: share.share_id, token };
}

// ---------------------------------------------------------------------------------------------
// REST: a request as parts, so one part at a time can be made hostile

type RestRequest = {
  method: string;
  route: CompiledRoute;
  path: Record<string, string>; // raw (encoded) segments
  query: [string, string][]; // raw (encoded) key and value
  body: [string, string][] | Uint8Array | undefined; // key and raw JSON text, or raw bytes
  headers: Record<string, string>;
};

const compiled = compileRoutes(schema, testConfig());
const routeName = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

/** Valid values for every argument of every route; functions give a fresh value per case. */
async function validArgs(route: CompiledRoute): Promise<Record<string, unknown>> {
  await maybePurge();
  const n = ++fresh;
  const stable = await stableChats();
  const json: Record<string, Record<string, unknown>> = {
    'POST /chats/': { user_id: owner.user_id },
    'GET /chats/:chat_id': { chat_id: stable.ownerChat, user_id: owner.user_id },
    'GET /chats/': { user_id: owner.user_id, limit: 5, offset: 0 },
    'GET /chats/:chat_id/messages': { chat_id: stable.ownerChat, user_id: owner.user_id, limit: 20 },
    'GET /chats/:chat_id/export': { chat_id: stable.ownerChat, user_id: owner.user_id, format: 'markdown' },
    'GET /chats/search/': { query: 'hello world', user_id: owner.user_id, limit: 5 },
    'PUT /chats/:chat_id': { chat_id: 0, title: `Renamed ${n}`, user_id: owner.user_id },
    'PUT /chats/:chat_id/active-branch': {
      chat_id: stable.ownerChat,
      user_id: owner.user_id,
      message_id: await firstMessageOf(stable.ownerChat),
    },
    'DELETE /chats/:chat_id': { chat_id: 0, user_id: owner.user_id },
    'POST /chats/cleanup-empty': { user_id: owner.user_id, is_admin: false },
    'POST /chats/:chat_id/messages': {
      chat_id: stable.ownerChat,
      user_id: owner.user_id,
      content: `hello ${n}`,
      sender: 'user',
    },
    'POST /chats/users': { username: `fuzz user ${n}`, email: `fuzz-${process.pid}-${n}@example.com` },
    'POST /chats/debug/test-model-usage': { model_name: 'gpt-4o', user_id: owner.user_id, chat_id: stable.anonChat },
    'POST /usage': {
      user_id: owner.user_id,
      chat_id: stable.anonChat,
      model_name: 'openai/GPT-4o',
      provider: 'openai',
      prompt_tokens: 1200,
      completion_tokens: 300,
      cached_prompt_tokens: 200,
      reasoning_tokens: 50,
      request_time_ms: 850,
      is_streaming: true,
    },
    'POST /folders': { user_id: owner.user_id, name: `Folder ${n}` },
    'GET /folders': { user_id: owner.user_id },
    'PUT /folders/:folder_id': { folder_id: 0, user_id: owner.user_id, name: `Renamed folder ${n}` },
    'DELETE /folders/:folder_id': { folder_id: 0, user_id: owner.user_id },
    'GET /users/:user_id/retention': { user_id: owner.user_id },
    'PUT /users/:user_id/retention': { user_id: owner.user_id, days: 3650 },
    'POST /admin/retention/preview': { limit: 5 },
    'GET /usage/allowance': { user_id: owner.user_id, model_name: 'gpt-4o' },
    'PUT /budgets': {
      scope: 'user',
      user_id: other.user_id,
      period: 'week',
      limit_usd: 1000,
      alert_percents: [50, 90],
      time_zone: 'Europe/Paris',
    },
    'GET /budgets': { limit: 5 },
    'DELETE /budgets/:budget_id': { budget_id: 0 },
    'GET /budgets/:budget_id/alerts': { budget_id: 0, limit: 5 },
    'POST /chats/:chat_id/shares': { chat_id: stable.ownerChat, user_id: owner.user_id, expires_in_days: 30 },
    'GET /chats/:chat_id/shares': { chat_id: stable.ownerChat, user_id: owner.user_id },
    'DELETE /chats/:chat_id/shares/:share_id': { chat_id: stable.ownerChat, share_id: 0, user_id: owner.user_id },
    'GET /shared/:token': { token: '' },
    'PUT /chats/:chat_id/messages/:message_id/feedback': {
      ...(await disposableAnswer()),
      user_id: owner.user_id,
      rating: 'down',
      reason: 'vague',
      comment: `Feedback ${n}`,
    },
    'DELETE /chats/:chat_id/messages/:message_id/feedback': {
      ...(await disposableAnswer(true)),
      user_id: owner.user_id,
    },
    'GET /usage/summary': {
      user_id: owner.user_id,
      from: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10),
      to: new Date(Date.now() + 86_400_000).toISOString(),
      group_by: ['MODEL', 'DAY'],
      time_zone: 'Europe/Paris',
    },
  };
  const values = json[routeName(route)];
  if (!values) throw new Error(`no valid baseline for ${routeName(route)}: add one to test/fuzz.test.ts`);
  if (values.chat_id === 0) values.chat_id = await disposableChat();
  if (values.folder_id === 0) values.folder_id = await disposableFolder();
  if (values.budget_id === 0) values.budget_id = await disposableBudget();
  if (values.share_id === 0) values.share_id = (await disposableShare()).share_id;
  if (values.token === '') values.token = (await disposableShare()).token;
  const args = route.graphqlField.args.map((a) => a.name);
  const unknown = Object.keys(values).filter((k) => !args.includes(k));
  if (unknown.length > 0) throw new Error(`${routeName(route)} has no argument ${unknown.join(', ')}`);
  return values;
}

async function baseline(route: CompiledRoute): Promise<RestRequest> {
  const values = await validArgs(route);
  const request: RestRequest = {
    method: route.method,
    route,
    path: {},
    query: [],
    body: route.hasBody ? [] : undefined,
    headers: {
      ...(route.hasBody ? { 'content-type': 'application/json' } : {}),
      // The operators' routes answer only the admin key.
      ...(route.path.startsWith('/admin/') || route.path.startsWith('/budgets') ? ADMIN : {}),
    },
  };
  for (const arg of route.graphqlField.args) {
    const value = values[arg.name];
    if (value === undefined) continue;
    const source = route.sourceOf(arg);
    // In a URL, a list is comma-separated.
    const asText = encodeURIComponent(Array.isArray(value) ? value.join(',') : String(value));
    if (source === 'path') request.path[arg.name] = asText;
    else if (source === 'query') request.query.push([arg.name, asText]);
    else (request.body as [string, string][]).push([arg.name, JSON.stringify(value)]);
  }
  return request;
}

function bodyBytes(request: RestRequest): Uint8Array | undefined {
  if (request.body === undefined || request.body instanceof Uint8Array) return request.body;
  return utf8.encode(`{${request.body.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
}

function urlOf(request: RestRequest): string {
  const path = request.route.path.replace(/:(\w+)/g, (_, name: string) => request.path[name] ?? '');
  const query = request.query.map(([k, v]) => (v === '\u0001' ? k : `${k}=${v}`)).join('&');
  return query ? `${path}?${query}` : path;
}

type Mutation =
  | { kind: 'path'; key: string; value: string }
  | { kind: 'query-set' | 'query-dup' | 'query-bracket'; key: string; value: string }
  | { kind: 'query-drop' | 'query-bare'; key: string }
  | { kind: 'query-extra'; key: string; value: string }
  | { kind: 'body-set'; key: string; value: string }
  | { kind: 'body-bad-utf8'; key: string; bytes: Uint8Array }
  | { kind: 'body-drop'; key: string }
  | { kind: 'body-extra'; key: string; value: string }
  | { kind: 'body-raw'; bytes: Uint8Array }
  | { kind: 'header'; name: string; value: string };

/** One hostile change to one part of a valid request of this route. */
function oneFieldMutation(route: CompiledRoute): fc.Arbitrary<Mutation> {
  const args = route.graphqlField.args;
  const from = (source: string) => args.filter((a) => route.sourceOf(a) === source).map((a) => a.name);
  const pathKeys = from('path');
  const queryKeys = from('query');
  const bodyKeys = from('body');
  const options: fc.Arbitrary<Mutation>[] = [];
  const weighted = (arbitrary: fc.Arbitrary<Mutation>, weight: number) =>
    options.push(...Array<fc.Arbitrary<Mutation>>(weight).fill(arbitrary));
  if (pathKeys.length > 0) {
    weighted(
      fc.record({ kind: fc.constant('path' as const), key: fc.constantFrom(...pathKeys), value: hostileSegment }),
      4,
    );
  }
  if (queryKeys.length > 0) {
    const key = fc.constantFrom(...queryKeys);
    weighted(fc.record({ kind: fc.constant('query-set' as const), key, value: hostileQueryValue }), 5);
    weighted(
      fc.record({
        kind: fc.constantFrom('query-dup' as const, 'query-bracket' as const),
        key,
        value: hostileQueryValue,
      }),
      1,
    );
    weighted(fc.record({ kind: fc.constantFrom('query-drop' as const, 'query-bare' as const), key }), 1);
  }
  weighted(
    fc.record({
      kind: fc.constant('query-extra' as const),
      key: fc.oneof(extraKey.map(encodeURIComponentSafe), fc.constantFrom(...args.map((a) => a.name))),
      value: hostileQueryValue,
    }),
    1,
  );
  if (route.hasBody) {
    if (bodyKeys.length > 0) {
      const key = fc.constantFrom(...bodyKeys);
      weighted(fc.record({ kind: fc.constant('body-set' as const), key, value: hostileJson }), 8);
      weighted(fc.record({ kind: fc.constant('body-bad-utf8' as const), key, bytes: badUtf8InString }), 1);
      weighted(fc.record({ kind: fc.constant('body-drop' as const), key }), 1);
    }
    weighted(fc.record({ kind: fc.constant('body-extra' as const), key: extraKey, value: hostileJson }), 2);
    weighted(fc.record({ kind: fc.constant('body-raw' as const), bytes: hostileBodyBytes }), 2);
  }
  weighted(
    hostileHeader.map(([name, value]): Mutation => ({ kind: 'header', name, value })),
    route.hasBody ? 2 : 1,
  );
  return fc.oneof(...options);
}

function encodeURIComponentSafe(s: string): string {
  return s.isWellFormed() ? encodeURIComponent(s) : '%ED%A0%80';
}

function applyMutation(request: RestRequest, m: Mutation): RestRequest {
  const r: RestRequest = {
    ...request,
    path: { ...request.path },
    query: request.query.map(([k, v]) => [k, v]),
    body: Array.isArray(request.body) ? request.body.map(([k, v]) => [k, v]) : request.body,
    headers: { ...request.headers },
  };
  const body = () => {
    if (!Array.isArray(r.body)) r.body = [];
    return r.body;
  };
  switch (m.kind) {
    case 'path':
      r.path[m.key] = m.value;
      break;
    case 'query-set':
      r.query = r.query.filter(([k]) => k !== m.key).concat([[m.key, m.value]]);
      break;
    case 'query-dup':
      r.query.push([m.key, m.value]);
      break;
    case 'query-bracket':
      r.query.push([`${m.key}%5B%5D`, m.value]);
      break;
    case 'query-drop':
      r.query = r.query.filter(([k]) => k !== m.key);
      break;
    case 'query-bare':
      r.query = r.query.filter(([k]) => k !== m.key).concat([[m.key, '\u0001']]);
      break;
    case 'query-extra':
      r.query.push([m.key, m.value]);
      break;
    case 'body-set':
      r.body = body()
        .filter(([k]) => k !== m.key)
        .concat([[m.key, m.value]]);
      break;
    case 'body-drop':
      r.body = body().filter(([k]) => k !== m.key);
      break;
    case 'body-extra':
      body().push([m.key, m.value]);
      break;
    case 'body-bad-utf8': {
      const rest = bodyBytes({ ...r, body: body().filter(([k]) => k !== m.key) }) ?? utf8.encode('{}');
      const head = utf8.encode(`{${JSON.stringify(m.key)}:"x`);
      const tail = utf8.encode(`y"${rest.length > 2 ? ',' : ''}`);
      r.body = concat(head, m.bytes, tail, rest.subarray(1));
      break;
    }
    case 'body-raw':
      r.body = m.bytes;
      break;
    case 'header':
      r.headers[m.name] = m.value;
      break;
  }
  return r;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** What the server reads from a body: the parsed object, or undefined when it is not one. */
function parsedBody(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (bytes === undefined) return undefined;
  try {
    const value = JSON.parse(decode(bytes));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const describeRequest = (method: string, url: string, body: Uint8Array | undefined, headers: object) =>
  `${method} ${show(url)} headers=${JSON.stringify(headers)} body=${body === undefined ? '-' : show(decode(body))}`;

/** Sends the request and checks every invariant; returns the reply. */
async function checkRest(request: RestRequest, kind: string): Promise<Reply> {
  count(kind);
  const url = urlOf(request);
  const body = bodyBytes(request);
  const what = describeRequest(request.method, url, body, request.headers);
  const before = await snapshot();
  const reply = await send(request.method, url, body, request.headers);
  // Only routes with a body read it (a DELETE's body is ignored, a GET's is not even sent).
  if (request.route.hasBody && body !== undefined && !isUtf8(body) && reply.status === 200) {
    throw new Error(`${what}: accepted invalid UTF-8`);
  }
  if (reply.status !== 200) {
    assertRestError(reply, what);
    assertUnchanged(before, await snapshot(), what);
    return reply;
  }
  // A dot segment (`/chats/..` is `/`) makes the URL another path, as in every client: the answer
  // is that path's (the home page, say), and it changes nothing.
  if (!request.route.pattern.test(new URL(url, 'http://localhost').pathname)) {
    assertUnchanged(before, await snapshot(), what);
    return reply;
  }
  // A download route answers with the file itself (Markdown, say); every other route with JSON.
  const download = (request.route as { download?: object }).download !== undefined;
  if (reply.json === undefined && !download) throw new Error(`${what}: 200 without a JSON body: ${show(reply.text)}`);
  accepted++;
  await checkAccepted(request, reply, before, parsedBody(body), what);
  return reply;
}

/** A 200: what was written is what was sent. */
async function checkAccepted(
  request: RestRequest,
  reply: Reply,
  before: Snapshot,
  sent: Record<string, unknown> | undefined,
  what: string,
) {
  const r = reply.json;
  const fail = (message: string) => {
    throw new Error(`${what}: ${message}; reply ${show(reply.text)}`);
  };
  if (request.route.field.startsWith('Query.')) {
    assertUnchanged(before, await snapshot(), `${what} (a read)`);
    return;
  }
  switch (request.route.field) {
    case 'Mutation.update_chat': {
      const title = sent?.title;
      const row = await db().chat.findUnique({ where: { chat_id: r.chat_id } });
      if (typeof title === 'string') {
        // Titles are stored trimmed (src/modules/chats/mutations.ts); everything else must be kept exactly.
        if (r.title !== title.trim()) fail(`title ${JSON.stringify(title)} came back as ${JSON.stringify(r.title)}`);
        if (row?.title !== title.trim()) fail(`title ${JSON.stringify(title)} stored as ${JSON.stringify(row?.title)}`);
        const read = await send('GET', `/chats/${r.chat_id}`);
        if (read.json?.title !== title.trim()) fail(`title read back as ${JSON.stringify(read.json?.title)}`);
        roundTrips++;
      }
      break;
    }
    case 'Mutation.add_message': {
      const content = sent?.content;
      if (typeof content !== 'string') fail('accepted a message without string content');
      if (r.content !== content) fail(`content came back changed (${JSON.stringify(r.content)?.slice(0, 200)})`);
      const read = await send('GET', `/chats/${r.chat_id}`);
      const stored = read.json?.messages?.find((m: { message_id: number }) => m.message_id === r.message_id);
      if (stored?.content !== content) fail('content read back over GET differs from what was sent');
      const row = await db().message.findUnique({ where: { message_id: r.message_id } });
      if (row?.content !== content) fail('content stored in the database differs from what was sent');
      roundTrips++;
      // Keep the snapshots small: long accepted messages have been checked and can go.
      if ((content as string).length > 1000) await db().message.delete({ where: { message_id: r.message_id } });
      break;
    }
    case 'Mutation.create_or_get_user': {
      const { username, email } = sent ?? {};
      if (typeof username !== 'string' || typeof email !== 'string') fail('accepted a user without string fields');
      const existed = before.User.find((u) => u.user_id === r.user_id);
      if (existed) {
        if (r.username !== existed.username || r.email !== existed.email) fail('returned an existing user changed');
        assertUnchanged(before, await snapshot(), `${what} (an existing user)`);
      } else {
        // Usernames are stored trimmed, emails trimmed and lower-cased (src/modules/users/index.ts).
        const expected = (username as string).trim();
        if (r.username !== expected) fail(`username ${JSON.stringify(username)} came back changed`);
        if (r.email !== (email as string).trim().toLowerCase())
          fail(`email ${JSON.stringify(email)} came back changed`);
        const read = await gqlRaw('query($id: Int!) { user(user_id: $id) { username email } }', { id: r.user_id });
        if (read.json?.data?.user?.username !== expected) fail('username read back over GraphQL differs');
        roundTrips++;
      }
      break;
    }
    case 'Mutation.create_chat': {
      const row = await db().chat.findUnique({ where: { chat_id: r.chat_id } });
      if (!row || before.Chat.some((c) => c.chat_id === r.chat_id)) fail('no new chat row');
      if (row?.user_id !== ((sent?.user_id as number | undefined) ?? null)) fail('chat stored with another owner');
      break;
    }
    case 'Mutation.delete_chat': {
      const id = Number(decodeURIComponent(request.path.chat_id ?? ''));
      if (await db().chat.findUnique({ where: { chat_id: id } })) fail(`chat ${id} is still there`);
      break;
    }
    case 'Mutation.test_model_usage': {
      const row = await db().modelUsage.findUnique({ where: { usage_id: r.usage_recorded?.usage_id } });
      if (!row) fail('no usage row');
      break;
    }
  }
}

async function gqlRaw(query: string, variables?: unknown, headers: Record<string, string> = {}) {
  return send('POST', '/graphql', utf8.encode(JSON.stringify({ query, variables })), {
    'content-type': 'application/json',
    ...headers,
  });
}

// ---------------------------------------------------------------------------------------------
// REST properties

describe('REST fuzzing', () => {
  it('snapshots every table', () => {
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['User', 'Chat', 'Message', 'ModelUsage']));
  });

  it('covers every route of the route map', () => {
    expect(compiled.map(routeName).sort()).toEqual(routes.map(routeName).sort());
  });

  it('every baseline request is valid (200)', async () => {
    for (const route of compiled) {
      const reply = await checkRest(await baseline(route), 'baseline');
      expect([routeName(route), reply.status, reply.text]).toEqual([routeName(route), 200, reply.text]);
    }
  });

  describe.each(compiled.map((route) => [routeName(route), route] as const))('%s', (_name, route) => {
    it('one hostile field at a time', async () => {
      await fc.assert(
        fc.asyncProperty(oneFieldMutation(route), async (mutation) => {
          await checkRest(applyMutation(await baseline(route), mutation), 'rest-one-field');
        }),
        { numRuns: RUNS.oneField },
      );
    }, 60_000);

    it('fully random path, query and body', async () => {
      const args = route.graphqlField.args.map((a) => a.name);
      const key = fc.oneof(fc.constantFrom(...args), extraKey);
      const request = fc.record({
        path: fc.dictionary(fc.constantFrom(...(route.pathParams.length ? route.pathParams : ['_'])), hostileSegment),
        query: fc.array(fc.tuple(key.map(encodeURIComponentSafe), hostileQueryValue), { maxLength: 4 }),
        body: fc.oneof(
          fc.array(fc.tuple(key, hostileJson), { maxLength: 5 }),
          hostileBodyBytes,
          fc.constant(undefined),
        ),
        headers: fc.array(hostileHeader, { maxLength: 2 }),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ path, query, body, headers }) => {
          await maybePurge();
          const pathValues = { ...path };
          for (const name of route.pathParams) pathValues[name] ??= String((await stableChats()).ownerChat);
          await checkRest(
            {
              method: route.method,
              route,
              path: pathValues,
              query,
              body: route.hasBody || body instanceof Uint8Array ? body : undefined,
              headers: Object.fromEntries(headers),
            },
            'rest-random',
          );
        }),
        { numRuns: RUNS.random },
      );
    }, 60_000);
  });

  // Found by the GraphQL properties: token counts that fit an Int each but not their sum.
  const usageRoute = compiled.find((r) => r.field === 'Mutation.record_model_usage');
  (usageRoute ? it : it.skip)(
    'token counts whose sum overflows a 32-bit Int: no 500, nothing half-written',
    async () => {
      const route = usageRoute as CompiledRoute;
      for (const [prompt, completion] of [
        ['2147483647', '1'],
        ['2000000000', '2000000000'],
      ]) {
        const request = applyMutation(
          applyMutation(await baseline(route), { kind: 'body-set', key: 'prompt_tokens', value: prompt as string }),
          { kind: 'body-set', key: 'completion_tokens', value: completion as string },
        );
        // Without the parts (cached, reasoning), which must not exceed the counts.
        request.body = (request.body as [string, string][]).filter(
          ([k]) => k !== 'cached_prompt_tokens' && k !== 'reasoning_tokens',
        );
        await checkRest(request, 'rest-regression');
      }
    },
  );

  it('odd paths and methods: 404/405/422 with a detail, never a 500, nothing written', async () => {
    const segment = fc.oneof(
      hostileSegment,
      fc.constantFrom('chats', 'users', 'messages', 'cleanup-empty', 'debug', 'test-model-usage', '', '1'),
    );
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'post');
    const pathArb = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/chats/${s.join('/')}`),
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`),
      fc.constantFrom('/chats', '/chats//', '//chats/', '/chats/./', '/CHATS/', '/chats/%2e/', '/chats/1/messages/'),
    );
    const queryArb = fc.option(
      fc.array(fc.tuple(extraKey.map(encodeURIComponentSafe), hostileQueryValue), { maxLength: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(method, pathArb, queryArb, hostileBodyBytes, async (m, path, query, body) => {
        await maybePurge();
        count('rest-paths');
        const url = query ? `${path}?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : path;
        const what = describeRequest(m, url, body, {});
        const before = await snapshot();
        const reply = await send(m, url, body, { 'content-type': 'application/json' });
        if (reply.status >= 500) throw new Error(`${what}: HTTP ${reply.status} ${show(reply.text)}`);
        if (reply.status >= 400 && m.toUpperCase() !== 'HEAD') {
          assertRestError(reply, what);
          assertUnchanged(before, await snapshot(), what);
        }
      }),
      { numRuns: RUNS.paths },
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Valid text, however odd, is accepted and reads back exactly (titles and usernames trimmed)

describe('valid but hostile text round-trips', () => {
  const viaRest = fc.boolean();

  it('message content', async () => {
    await fc.assert(
      fc.asyncProperty(validHostileText(100_000), viaRest, async (content, rest) => {
        const chat_id = (await stableChats()).ownerChat;
        if (rest) {
          const request = await baseline(compiled.find((r) => r.field === 'Mutation.add_message') as CompiledRoute);
          request.path.chat_id = String(chat_id);
          request.body = [
            ['content', JSON.stringify(content)],
            ['sender', '"user"'],
          ];
          const reply = await checkRest(request, 'valid-text');
          if (reply.status !== 200) throw new Error(`valid content refused: ${reply.status} ${show(reply.text)}`);
        } else {
          const c = mutations.find((m) => m.name === 'add_message') as GqlCase;
          const r = await gqlBaseline(c);
          r.variables = [
            ['chat_id', String(chat_id)],
            ['content', JSON.stringify(content)],
            ['sender', '"user"'],
          ];
          const before = roundTrips;
          await checkGql(c, r, 'valid-text');
          if (roundTrips === before) throw new Error(`valid content refused over GraphQL: ${show(content)}`);
        }
      }),
      { numRuns: RUNS.validText },
    );
  }, 60_000);

  it.each([
    ['chat title', 'update_chat', 'Mutation.update_chat', 'title', 200],
    ['username', 'create_or_get_user', 'Mutation.create_or_get_user', 'username', 100],
  ] as const)(
    '%s',
    async (_what, mutation, field, arg, max) => {
      await fc.assert(
        fc.asyncProperty(validHostileText(max), viaRest, async (text, rest) => {
          const before = roundTrips;
          if (rest) {
            const request = await baseline(compiled.find((r) => r.field === field) as CompiledRoute);
            request.body = (request.body as [string, string][])
              .filter(([k]) => k !== arg)
              .concat([[arg, JSON.stringify(text)]]);
            const reply = await checkRest(request, 'valid-text');
            if (reply.status !== 200) throw new Error(`valid ${arg} refused: ${reply.status} ${show(reply.text)}`);
          } else {
            const c = mutations.find((m) => m.name === mutation) as GqlCase;
            const r = await gqlBaseline(c);
            r.variables = r.variables.filter(([k]) => k !== arg).concat([[arg, JSON.stringify(text)]]);
            await checkGql(c, r, 'valid-text');
          }
          if (roundTrips === before) throw new Error(`valid ${arg} was not accepted and read back: ${show(text)}`);
        }),
        { numRuns: RUNS.validText },
      );
    },
    60_000,
  );
});

// ---------------------------------------------------------------------------------------------
// GraphQL: every mutation, through variables and inline literals

type GqlCase = {
  name: string;
  selection: string;
  valid: () => Promise<Record<string, unknown>>;
  headers?: Record<string, string>;
};

const ADMIN = { 'x-admin-api-key': 'test-admin-key' };

const mutations: GqlCase[] = [
  { name: 'create_chat', selection: 'chat_id user_id title', valid: async () => ({ user_id: owner.user_id }) },
  {
    name: 'update_chat',
    selection: 'chat_id title user_id',
    valid: async () => ({ chat_id: await disposableChat(), title: `G renamed ${++fresh}`, user_id: other.user_id }),
  },
  {
    name: 'delete_chat',
    selection: 'message preserved_model_usage',
    valid: async () => ({ chat_id: await disposableChat(), user_id: owner.user_id }),
  },
  {
    name: 'cleanup_empty_chats',
    selection: 'message deleted_count',
    valid: async () => ({ user_id: other.user_id, is_admin: false }),
  },
  {
    name: 'add_message',
    selection: 'message_id chat_id content sender',
    valid: async () => ({
      chat_id: (await stableChats()).ownerChat,
      user_id: owner.user_id,
      content: `g ${++fresh}`,
      sender: 'ai',
    }),
  },
  {
    name: 'set_active_branch',
    selection: 'chat_id active_leaf_id',
    valid: async () => {
      const chat_id = (await stableChats()).ownerChat;
      return { chat_id, user_id: owner.user_id, message_id: await firstMessageOf(chat_id) };
    },
  },
  {
    name: 'append_to_message',
    selection: 'message_id chat_id content',
    valid: async () => {
      const chat_id = (await stableChats()).ownerChat;
      const m = await gqlRaw(
        'mutation($c: Int!) { add_message(chat_id: $c, content: "start ", sender: ai, streaming: true) { message_id } }',
        { c: chat_id },
      );
      const message_id = m.json?.data?.add_message?.message_id ?? 0;
      return { message_id, delta: `part ${++fresh}`, complete: false, user_id: owner.user_id };
    },
  },
  {
    name: 'create_folder',
    selection: 'folder_id user_id name parent_id',
    valid: async () => ({ user_id: owner.user_id, name: `G folder ${++fresh}`, parent_id: await disposableFolder() }),
  },
  {
    name: 'update_folder',
    selection: 'folder_id name parent_id',
    valid: async () => ({
      folder_id: await disposableFolder(),
      user_id: owner.user_id,
      name: `G moved ${++fresh}`,
      parent_id: null,
    }),
  },
  {
    name: 'delete_folder',
    selection: 'message moved_chats',
    valid: async () => ({ folder_id: await disposableFolder(), user_id: owner.user_id }),
  },
  {
    name: 'set_user_retention',
    selection: 'user_id days effective_days',
    valid: async () => ({ user_id: other.user_id, days: 3650 }),
  },
  {
    name: 'set_budget',
    selection: 'budget_id scope limit_usd alert_percents',
    headers: ADMIN,
    valid: async () => ({
      scope: 'user',
      user_id: other.user_id,
      period: 'month',
      limit_usd: 500,
      alert_percents: [80],
    }),
  },
  {
    name: 'delete_budget',
    selection: 'message',
    headers: ADMIN,
    valid: async () => ({ budget_id: await disposableBudget() }),
  },
  {
    name: 'create_share',
    selection: 'share_id token url created_at expires_at',
    valid: async () => ({ chat_id: (await stableChats()).ownerChat, user_id: owner.user_id, expires_in_days: 7 }),
  },
  {
    name: 'revoke_share',
    selection: 'message',
    valid: async () => {
      const { chat_id, share_id } = await disposableShare();
      return { chat_id, share_id, user_id: owner.user_id };
    },
  },
  {
    name: 'set_feedback',
    selection: 'message_id chat_id rating reason comment created_at updated_at',
    valid: async () => ({
      ...(await disposableAnswer()),
      user_id: owner.user_id,
      rating: 'up',
      reason: 'clear',
      comment: `G feedback ${++fresh}`,
    }),
  },
  {
    name: 'delete_feedback',
    selection: 'message',
    valid: async () => ({ ...(await disposableAnswer(true)), user_id: owner.user_id }),
  },
  {
    name: 'import_chats',
    selection: 'imported chat_ids skipped { index reason } skipped_messages',
    valid: async () => ({
      user_id: owner.user_id,
      data: JSON.stringify({ title: `G imported ${++fresh}`, messages: [{ content: 'g', sender: 'user' }] }),
    }),
  },
  {
    name: 'create_or_get_user',
    selection: 'user_id username email',
    valid: async () => ({ username: `g user ${++fresh}`, email: `g-${process.pid}-${fresh}@example.com` }),
  },
  {
    name: 'record_model_usage',
    selection: 'usage_id user_id chat_id model_name provider total_tokens cost',
    valid: async () => ({
      user_id: owner.user_id,
      chat_id: (await stableChats()).ownerChat,
      model_name: 'claude-3-5-haiku',
      prompt_tokens: 10,
      completion_tokens: 5,
    }),
  },
  {
    name: 'create_api_key',
    selection: 'api_key key { api_key_id user_id name revoked_at }',
    headers: ADMIN,
    valid: async () => ({ user_id: other.user_id, name: `fuzz key ${++fresh}` }),
  },
  {
    name: 'revoke_api_key',
    selection: 'api_key_id revoked_at',
    headers: ADMIN,
    valid: async () => {
      const r = await gqlRaw(
        'mutation($u: Int!) { create_api_key(user_id: $u) { key { api_key_id } } }',
        { u: owner.user_id },
        ADMIN,
      );
      return { api_key_id: r.json?.data?.create_api_key?.key?.api_key_id ?? 0 };
    },
  },
  {
    name: 'test_model_usage',
    selection: 'success usage_recorded { usage_id model_name total_tokens cost }',
    valid: async () => ({
      model_name: 'claude-3-5-sonnet',
      user_id: owner.user_id,
      chat_id: (await stableChats()).anonChat,
    }),
  },
];

const mutationFields = schema.getMutationType()?.getFields() ?? {};

type GqlMutation =
  | { kind: 'var-set'; key: string; value: string }
  | { kind: 'var-drop'; key: string }
  | { kind: 'var-extra'; key: string; value: string }
  | { kind: 'decl-type'; key: string; type: string }
  | { kind: 'inline'; key: string; literal: string }
  | { kind: 'variables-raw'; value: string }
  | { kind: 'header'; name: string; value: string };

type GqlRequest = {
  decls: [string, string][];
  args: [string, string][]; // argument name and its GraphQL value text ($var or a literal)
  variables: [string, string][]; // name and raw JSON
  variablesRaw?: string;
  headers: Record<string, string>;
};

function gqlBody(c: GqlCase, r: GqlRequest) {
  const decls = r.decls.length ? `(${r.decls.map(([n, t]) => `$${n}: ${t}`).join(', ')})` : '';
  const args = r.args.length ? `(${r.args.map(([n, v]) => `${n}: ${v}`).join(', ')})` : '';
  const query = `mutation Fuzz${decls} { ${c.name}${args} { ${c.selection} } }`;
  const variables = r.variablesRaw ?? `{${r.variables.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  return utf8.encode(`{"query":${JSON.stringify(query)},"variables":${variables}}`);
}

async function gqlBaseline(c: GqlCase): Promise<GqlRequest> {
  await maybePurge();
  const field = mutationFields[c.name];
  if (!field) throw new Error(`the schema has no mutation ${c.name}`);
  const values = await c.valid();
  const r: GqlRequest = {
    decls: [],
    args: [],
    variables: [],
    headers: { 'content-type': 'application/json', ...c.headers },
  };
  for (const arg of field.args) {
    r.decls.push([arg.name, String(arg.type)]);
    r.args.push([arg.name, `$${arg.name}`]);
    if (arg.name in values) r.variables.push([arg.name, JSON.stringify(values[arg.name])]);
  }
  return r;
}

function gqlMutation(c: GqlCase): fc.Arbitrary<GqlMutation> {
  const names = (mutationFields[c.name]?.args ?? []).map((a) => a.name);
  const key = fc.constantFrom(...names);
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('var-set' as const), key, value: hostileJson }), weight: 10 },
    { arbitrary: fc.record({ kind: fc.constant('var-drop' as const), key }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('var-extra' as const), key: extraKey, value: hostileJson }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('decl-type' as const), key, type: graphqlTypeName }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('inline' as const), key, literal: hostileGraphqlLiteral }), weight: 4 },
    {
      arbitrary: fc.record({
        kind: fc.constant('variables-raw' as const),
        value: fc.constantFrom('null', '[]', '"x"', '1', '{"__proto__":{}}', '[{}]'),
      }),
      weight: 1,
    },
    {
      arbitrary: hostileHeader
        .filter(([name, value]) => name !== 'accept' || value === '*/*' || value.includes('graphql-response'))
        .map(([name, value]): GqlMutation => ({ kind: 'header', name, value })),
      weight: 1,
    },
  );
}

function applyGql(r: GqlRequest, m: GqlMutation): GqlRequest {
  const out: GqlRequest = {
    decls: r.decls.map(([a, b]) => [a, b]),
    args: r.args.map(([a, b]) => [a, b]),
    variables: r.variables.map(([a, b]) => [a, b]),
    variablesRaw: r.variablesRaw,
    headers: { ...r.headers },
  };
  switch (m.kind) {
    case 'var-set':
      out.variables = out.variables.filter(([k]) => k !== m.key).concat([[m.key, m.value]]);
      break;
    case 'var-drop':
      out.variables = out.variables.filter(([k]) => k !== m.key);
      break;
    case 'var-extra':
      out.variables.push([m.key, m.value]);
      break;
    case 'decl-type':
      out.decls = out.decls.map(([k, t]) => [k, k === m.key ? m.type : t]);
      break;
    case 'inline':
      out.decls = out.decls.filter(([k]) => k !== m.key);
      out.variables = out.variables.filter(([k]) => k !== m.key);
      out.args = out.args.map(([k, v]) => [k, k === m.key ? m.literal : v]);
      break;
    case 'variables-raw':
      out.variablesRaw = m.value;
      break;
    case 'header':
      out.headers[m.name] = m.value;
      break;
  }
  return out;
}

/** The value the server received for an argument: from the variables, or from a JSON-compatible inline literal. */
function sentValue(r: GqlRequest, name: string): unknown {
  const arg = r.args.find(([k]) => k === name)?.[1];
  if (arg === undefined) return undefined;
  if (arg.startsWith('$')) {
    const raw = r.variables.filter(([k]) => k === name).pop()?.[1];
    if (raw === undefined || r.variablesRaw !== undefined) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (arg.startsWith('"') && !arg.startsWith('"""')) {
    try {
      return JSON.parse(arg);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function checkGql(c: GqlCase, r: GqlRequest, kind: string) {
  count(kind);
  const body = gqlBody(c, r);
  const what = `POST /graphql headers=${JSON.stringify(r.headers)} body=${show(decode(body))}`;
  const before = await snapshot();
  const reply = await send('POST', '/graphql', body, r.headers);
  if (reply.status >= 500) throw new Error(`${what}: HTTP ${reply.status} ${show(reply.text)}`);
  const errors: any[] | undefined = reply.json?.errors;
  const internal = errors?.find(
    (e) => e?.extensions?.code === 'INTERNAL_SERVER_ERROR' || e?.message === 'Unexpected error.',
  );
  if (internal) throw new Error(`${what}: internal error ${show(reply.text)}`);
  const result = reply.json?.data?.[c.name];
  if (errors?.length || !result) {
    if (reply.json === undefined && reply.status < 400)
      throw new Error(`${what}: HTTP ${reply.status} ${show(reply.text)}`);
    assertUnchanged(before, await snapshot(), what);
    return;
  }
  accepted++;
  const fail = (message: string) => {
    throw new Error(`${what}: ${message}; reply ${show(reply.text)}`);
  };
  if (c.name === 'add_message') {
    const content = sentValue(r, 'content');
    if (typeof content === 'string') {
      if (result.content !== content) fail('content came back changed');
      const read = await gqlRaw('query($id: Int!) { chat(chat_id: $id) { messages { message_id content } } }', {
        id: result.chat_id,
      });
      const stored = read.json?.data?.chat?.messages?.find((m: any) => m.message_id === result.message_id);
      if (stored?.content !== content) fail('content read back over GraphQL differs');
      roundTrips++;
      if (content.length > 1000) await db().message.delete({ where: { message_id: result.message_id } });
    }
  } else if (c.name === 'append_to_message') {
    // The message was made by the baseline with "start " and nothing appended since.
    const delta = sentValue(r, 'delta');
    if (typeof delta === 'string') {
      if (result.content !== `start ${delta}`) fail('appended text came back changed');
      const read = await gqlRaw('query($id: Int!) { chat(chat_id: $id) { messages { message_id content } } }', {
        id: result.chat_id,
      });
      const stored = read.json?.data?.chat?.messages?.find((m: any) => m.message_id === result.message_id);
      if (stored?.content !== `start ${delta}`) fail('appended text read back over GraphQL differs');
      roundTrips++;
    }
  } else if (c.name === 'update_chat') {
    const title = sentValue(r, 'title');
    if (typeof title === 'string') {
      if (result.title !== title.trim()) fail(`title ${JSON.stringify(title)} came back changed`);
      const read = await gqlRaw('query($id: Int!) { chat(chat_id: $id) { title } }', { id: result.chat_id });
      if (read.json?.data?.chat?.title !== title.trim()) fail('title read back over GraphQL differs');
      roundTrips++;
    }
  } else if (c.name === 'create_or_get_user') {
    const username = sentValue(r, 'username');
    const existed = before.User.find((u) => u.user_id === result.user_id);
    if (existed) {
      if (result.username !== existed.username) fail('returned an existing user changed');
      assertUnchanged(before, await snapshot(), `${what} (an existing user)`);
    } else if (typeof username === 'string') {
      if (result.username !== username.trim()) fail(`username ${JSON.stringify(username)} came back changed`);
      const read = await gqlRaw('query($id: Int!) { user(user_id: $id) { username } }', { id: result.user_id });
      if (read.json?.data?.user?.username !== username.trim()) fail('username read back over GraphQL differs');
      roundTrips++;
    }
  }
}

describe('GraphQL fuzzing', () => {
  it('covers every mutation of the schema', () => {
    expect(mutations.map((m) => m.name).sort()).toEqual(Object.keys(mutationFields).sort());
  });

  it('knows every mutation it fuzzes, and each baseline is valid', async () => {
    for (const c of mutations) {
      expect(mutationFields[c.name]).toBeDefined();
      const r = await gqlBaseline(c);
      const reply = await send('POST', '/graphql', gqlBody(c, r), r.headers);
      expect([c.name, reply.json?.errors]).toEqual([c.name, undefined]);
    }
  });

  // Found by the properties: Yoga runs the mutation, then finds it cannot answer in the accepted
  // media type and says 406 with an empty body, so the client sees a failure for a write that
  // happened (and a retry writes twice). Asserted here for every mutation, deterministically; the
  // properties send only acceptable Accept headers, so this one bug does not stop them early.
  it('a mutation answered 406 (Accept: text/html or application/xml) writes nothing', async () => {
    const wrote: string[] = [];
    for (const accept of ['text/html', 'application/xml']) {
      for (const c of mutations) {
        count('graphql-accept');
        const r = await gqlBaseline(c);
        const body = gqlBody(c, r);
        const before = await snapshot();
        const reply = await send('POST', '/graphql', body, { ...r.headers, accept });
        expect(reply.status).toBeLessThan(500);
        if (reply.status < 400) continue;
        try {
          assertUnchanged(before, await snapshot(), c.name);
        } catch {
          wrote.push(`${c.name} (Accept: ${accept}): HTTP ${reply.status}, yet written`);
        }
      }
    }
    expect(wrote).toEqual([]);
  });

  // Found while fuzzing append_to_message: add_message counts MAX_MESSAGE_LENGTH in UTF-16 units
  // (String.length), the append's SQL length() in code points, so emoji let a message grow past it.
  (mutationFields.append_to_message ? it : it.skip)(
    'append_to_message cannot build a message that add_message would refuse as too long',
    async () => {
      count('graphql-regression');
      const max = 100_000; // MAX_MESSAGE_LENGTH's default; setup-env.ts does not change it
      // Limits count characters (code points), as the databases' length() does: 😀 is one, though
      // two UTF-16 units. Start one emoji short of the limit and append two.
      const start = '😀'.repeat(max - 1);
      const added = await gqlRaw(
        'mutation($c: Int!, $t: String!) { add_message(chat_id: $c, content: $t, sender: ai, streaming: true) { message_id } }',
        { c: (await stableChats()).ownerChat, t: start },
      );
      const message_id = added.json?.data?.add_message?.message_id;
      expect(typeof message_id).toBe('number');
      await gqlRaw(
        'mutation($id: Int!, $d: String!) { append_to_message(message_id: $id, delta: $d) { message_id } }',
        {
          id: message_id,
          d: '😀😀',
        },
      );
      const row = await db().message.findUnique({ where: { message_id } });
      await db().message.delete({ where: { message_id } });
      expect([...(row?.content ?? '')].length).toBeLessThanOrEqual(max);
    },
  );

  describe.each(mutations.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    it('one hostile variable or literal at a time', async () => {
      await fc.assert(
        fc.asyncProperty(gqlMutation(c), async (m) => {
          await checkGql(c, applyGql(await gqlBaseline(c), m), 'graphql-one-field');
        }),
        { numRuns: RUNS.graphqlOneVar },
      );
    }, 60_000);

    it('fully random variables', async () => {
      const field = mutationFields[c.name];
      const names = (field?.args ?? []).map((a) => a.name);
      const variables = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), extraKey), hostileJson), {
        maxLength: 5,
      });
      await fc.assert(
        fc.asyncProperty(variables, fc.boolean(), async (vars, declareAll) => {
          await maybePurge();
          const r: GqlRequest = {
            decls: [],
            args: [],
            variables: vars,
            headers: { 'content-type': 'application/json', ...c.headers },
          };
          for (const arg of field?.args ?? []) {
            // Either every argument through a variable, or only the required ones (others left out).
            if (!declareAll && !isNonNullType(arg.type)) continue;
            r.decls.push([arg.name, String(arg.type)]);
            r.args.push([arg.name, `$${arg.name}`]);
          }
          await checkGql(c, r, 'graphql-random');
        }),
        { numRuns: RUNS.graphqlRandom },
      );
    }, 60_000);
  });

  it('malformed GraphQL requests are refused without a 500 and without writing', async () => {
    const anyMutation = fc.constantFrom(...mutations.map((m) => m.name));
    const documents = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      anyMutation.map((n) => `mutation { ${n} }`),
      anyMutation.map((n) => `mutation { ${n}(`),
      anyMutation.map((n) => `mutation A { ${n} { __typename } } mutation A { ${n} { __typename } }`),
      anyMutation.map((n) => `subscription { ${n} { __typename } }`),
      fc.constant(`{ ${'a { '.repeat(500)}${'} '.repeat(500)}}`),
      fc.constant(`mutation { ${Array.from({ length: 200 }, (_, i) => `a${i}: create_chat { chat_id }`).join(' ')} }`),
    );
    const body = fc.oneof(
      documents.map((q) => utf8.encode(JSON.stringify({ query: q }))),
      hostileBodyBytes,
      hostileJson.map((v) => utf8.encode(`{"query":${v}}`)),
      documents.map((q) => utf8.encode(JSON.stringify({ query: q, operationName: 'Nope' }))),
    );
    await fc.assert(
      fc.asyncProperty(body, async (bytes) => {
        await maybePurge();
        count('graphql-malformed');
        const what = `POST /graphql body=${show(decode(bytes))}`;
        const before = await snapshot();
        const reply = await send('POST', '/graphql', bytes, { 'content-type': 'application/json' });
        if (reply.status >= 500) throw new Error(`${what}: HTTP ${reply.status} ${show(reply.text)}`);
        if (!isUtf8(bytes) && reply.status !== 400) throw new Error(`${what}: invalid UTF-8 answered ${reply.status}`);
        const errors: any[] | undefined = reply.json?.errors;
        if (
          errors?.some((e) => e?.extensions?.code === 'INTERNAL_SERVER_ERROR' || e?.message === 'Unexpected error.')
        ) {
          throw new Error(`${what}: internal error ${show(reply.text)}`);
        }
        if (errors?.length) assertUnchanged(before, await snapshot(), what);
      }),
      { numRuns: RUNS.random },
    );
  }, 60_000);
});
