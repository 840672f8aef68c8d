import { createGateway, type Gateway } from '../../src/app';
import type { Context } from '../../src/graphql/context';
import { schema } from '../../src/graphql/schema';
import { compileRoutes } from '../../src/rest/compile';
import { readDirectly } from '../../src/rest/direct';
import { createUser } from '../support/auth-matrix';
import { usePostgres } from '../support/databases';
import { configureGateway, db, gateway, testConfig } from '../support/gateway';
import { addMessage, call, newChat, newUser, type Reply, readReply } from '../support/http';
import { JWT_AUTH, jwtCallers, SMALL_READS } from '../support/settings';

/*
 * GET /chats/{chat_id} and GET /chats/ are answered from SQL (src/rest/direct.ts) when they can
 * be. Here the same requests go to this file's gateway and to one on the same database without
 * direct reads (REST_DIRECT_READS=false), whose answers come from the resolvers, and the answers
 * must be the same to the byte. Each case also says whether the direct read answered it or left
 * it to the route's operation, so a case that silently stopped being read directly fails too.
 */

configureGateway(SMALL_READS);

let plain: Gateway;

beforeAll(async () => {
  plain = await createGateway(testConfig({ ...SMALL_READS, REST_DIRECT_READS: 'false' }));
});
afterAll(() => plain.close());

async function fetchFrom(target: Gateway, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return readReply(await target.yoga.fetch(`http://localhost${path}`, { headers }));
}

const answerOf = (r: Reply) => ({ status: r.status, type: r.headers.get('content-type'), body: r.text });

/** How many reads `target` answered directly (or whatever `outcome` says), over both routes. */
async function directReads(target: Gateway, outcome: 'served' | 'declined' | 'failed' = 'served') {
  let total = 0;
  for (const route of ['/chats/:chat_id', '/chats/']) {
    total += await target.services.metrics.value('rest_direct_reads_total', { route, outcome });
  }
  return total;
}

/**
 * The answer over a socket (the Node fast path) and through Yoga's fetch handler, both from this
 * file's gateway, each equal to the resolvers' answer; and whether the direct read served both.
 */
async function compare(path: string, headers: Record<string, string> = {}, target = gateway(), reference = plain) {
  const before = await directReads(target);
  const overSocket = target === gateway() ? await call('GET', path, undefined, headers) : undefined;
  const throughYoga = await fetchFrom(target, path, headers);
  const served = (await directReads(target)) - before;
  const expected = answerOf(await fetchFrom(reference, path, headers));
  if (overSocket) expect({ path, ...answerOf(overSocket) }).toEqual({ path, ...expected });
  expect({ path, ...answerOf(throughYoga) }).toEqual({ path, ...expected });
  // Both requests, or neither.
  expect({ path, served: served === 0 || served === (overSocket ? 2 : 1) }).toEqual({ path, served: true });
  return { status: throughYoga.status, direct: served > 0, json: throughYoga.json };
}

describe('direct reads', () => {
  let user: Awaited<ReturnType<typeof newUser>>;
  let other: Awaited<ReturnType<typeof newUser>>;
  const chats: Record<string, number> = {};
  let folderId = 0;

  beforeAll(async () => {
    user = await newUser('direct');
    other = await newUser('direct-other');
    chats.plain = (await newChat(user.user_id)).chat_id;
    // Text as JSON has to escape it: quotes, backslashes, control characters, line separators, emoji.
    for (const content of ['first', 'a "quoted" \\ back\nslash\t\u0001', 'line\u2028sep 🦜 é', 'fourth']) {
      await addMessage(chats.plain, content);
    }
    await addMessage(chats.plain, 'an answer', 'ai');
    // Over MAX_MESSAGES_PER_READ (5): the newest five.
    chats.long = (await newChat(user.user_id)).chat_id;
    for (let i = 0; i < 8; i++) await addMessage(chats.long, `m${i}`, i % 2 ? 'ai' : 'user');
    chats.empty = (await newChat(user.user_id)).chat_id;
    chats.anonymous = (await newChat()).chat_id;
    await addMessage(chats.anonymous, 'from nobody');
    chats.others = (await newChat(other.user_id)).chat_id;
    // A branched chat: its messages are the path to its active leaf, which the resolvers read.
    chats.branched = (await newChat(user.user_id)).chat_id;
    const root = await addMessage(chats.branched, 'root');
    await addMessage(chats.branched, 'first answer', 'ai');
    await call('POST', `/chats/${chats.branched}/messages`, {
      content: 'second',
      sender: 'ai',
      parent_id: root.message_id,
    });
    // Whole seconds: PostgreSQL's text drops the zero milliseconds that the answer keeps.
    chats.roundTime = (await newChat(user.user_id)).chat_id;
    const message = await addMessage(chats.roundTime, 'on the second');
    await db().chat.update({
      where: { chat_id: chats.roundTime },
      data: { created_at: new Date('2024-01-02T03:04:05.000Z') },
    });
    await db().message.update({
      where: { message_id: message.message_id },
      data: { timestamp: new Date('2024-01-02T03:04:06.000Z') },
    });
    // Times as SQLite's CURRENT_TIMESTAMP writes them, without a zone (read as UTC).
    chats.zoneless = (await newChat(user.user_id)).chat_id;
    const zoneless = await addMessage(chats.zoneless, 'no zone');
    await db().$executeRawUnsafe(
      `UPDATE "Chat" SET created_at = '2024-01-03 04:05:06' WHERE chat_id = ${chats.zoneless}`,
    );
    await db().$executeRawUnsafe(
      `UPDATE "Message" SET "timestamp" = '2024-01-03 04:05:07.5' WHERE message_id = ${zoneless.message_id}`,
    );
    // Two chats made in the same millisecond: the newer ID first.
    chats.tieA = (await newChat(user.user_id)).chat_id;
    chats.tieB = (await newChat(user.user_id)).chat_id;
    await db().chat.updateMany({
      where: { chat_id: { in: [chats.tieA, chats.tieB] } },
      data: { created_at: new Date('2025-06-07T08:09:10.111Z') },
    });
    // A sender the schema does not know (no constraint stops it): the executor's to refuse.
    chats.oddSender = (await newChat(user.user_id)).chat_id;
    const odd = await addMessage(chats.oddSender, 'beep');
    await db().message.update({ where: { message_id: odd.message_id }, data: { sender: 'robot' } });
    const folder = (await call('POST', '/folders', { name: 'direct', user_id: user.user_id })).json;
    folderId = folder.folder_id;
    chats.organised = (await newChat(user.user_id)).chat_id;
    await call('PUT', `/chats/${chats.organised}?user_id=${user.user_id}`, {
      folder_id: folderId,
      tags: ['direct'],
      pinned: true,
    });
    chats.archived = (await newChat(user.user_id)).chat_id;
    await call('PUT', `/chats/${chats.archived}?user_id=${user.user_id}`, { archived: true });
  });

  it('answers a chat with its messages as the resolvers do, and leaves what it cannot to them', async () => {
    const u = user.user_id;
    const cases: [string, { status: number; direct: boolean }][] = [
      [`/chats/${chats.plain}`, { status: 200, direct: true }],
      [`/chats/${chats.plain}?user_id=${u}`, { status: 200, direct: true }],
      [`/chats/${chats.long}?user_id=${u}`, { status: 200, direct: true }],
      [`/chats/${chats.empty}`, { status: 200, direct: true }],
      [`/chats/${chats.anonymous}?user_id=${u}`, { status: 200, direct: true }],
      [`/chats/${chats.roundTime}`, { status: 200, direct: true }],
      [`/chats/${chats.organised}?user_id=${u}`, { status: 200, direct: true }],
      [`/chats/${chats.zoneless}`, { status: 200, direct: true }],
      // Left to the resolvers: a branched chat, another user's chat, a missing one, bad arguments,
      // a stored value the schema refuses.
      [`/chats/${chats.oddSender}`, { status: 500, direct: false }],
      [`/chats/${chats.branched}?user_id=${u}`, { status: 200, direct: false }],
      [`/chats/${chats.others}?user_id=${u}`, { status: 404, direct: false }],
      ['/chats/2147483647', { status: 404, direct: false }],
      ['/chats/abc', { status: 422, direct: false }],
      [`/chats/${chats.plain}?user_id=x`, { status: 422, direct: false }],
      ['/chats/99999999999', { status: 422, direct: false }],
    ];
    for (const [path, expected] of cases) {
      const { status, direct } = await compare(path);
      expect({ path, status, direct }).toEqual({ path, ...expected });
    }
    const long = (await call('GET', `/chats/${chats.long}`)).json;
    expect(long.messages.map((m: { content: string }) => m.content)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    const round = (await call('GET', `/chats/${chats.roundTime}`)).json;
    expect([round.created_at, round.messages[0].timestamp]).toEqual([
      '2024-01-02T03:04:05.000Z',
      '2024-01-02T03:04:06.000Z',
    ]);
    const zoneless = (await call('GET', `/chats/${chats.zoneless}`)).json;
    expect([zoneless.created_at, zoneless.messages[0].timestamp]).toEqual([
      '2024-01-03T04:05:06.000Z',
      '2024-01-03T04:05:07.500Z',
    ]);
  });

  it('answers the chat list as the resolvers do, with its filters, pages and refusals', async () => {
    const u = user.user_id;
    const cases: [string, { status: number; direct: boolean }][] = [
      [`/chats/?user_id=${u}`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&limit=1`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&limit=100&offset=2`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&offset=100`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&archived=true`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&archived=false&pinned=false`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&pinned=true`, { status: 200, direct: true }],
      [`/chats/?user_id=${u}&folder_id=${folderId}`, { status: 200, direct: true }],
      ['/chats/?limit=100', { status: 200, direct: true }],
      ['/chats/', { status: 200, direct: true }],
      ['/chats', { status: 200, direct: true }],
      ['/chats/?user_id=2147483647', { status: 200, direct: true }],
      // Left to the resolvers: tags, and what they refuse.
      [`/chats/?user_id=${u}&tag=direct`, { status: 200, direct: false }],
      [`/chats/?user_id=${u}&limit=0`, { status: 422, direct: false }],
      [`/chats/?user_id=${u}&limit=101`, { status: 422, direct: false }],
      [`/chats/?user_id=${u}&offset=-1`, { status: 422, direct: false }],
      ['/chats/?pinned=maybe', { status: 422, direct: false }],
    ];
    for (const [path, expected] of cases) {
      const { status, direct } = await compare(path);
      expect({ path, status, direct }).toEqual({ path, ...expected });
    }
    const list = (await call('GET', `/chats/?user_id=${u}&limit=100`)).json as { chat_id: number }[];
    // Newest first, the tie by ID; archived chats left out.
    const ids = list.map((c) => c.chat_id);
    expect(ids.indexOf(chats.tieB as number)).toBe(ids.indexOf(chats.tieA as number) - 1);
    expect(ids).not.toContain(chats.archived);
    expect(ids.at(-1)).toBe(chats.roundTime);
  });

  it('reads what was just written', async () => {
    const chat = await newChat(user.user_id);
    for (let i = 0; i < 3; i++) {
      const added = await addMessage(chat.chat_id, `now ${i}`);
      const read = (await call('GET', `/chats/${chat.chat_id}`)).json;
      expect(read.messages.at(-1)).toEqual(added);
    }
    await call('PUT', `/chats/${chat.chat_id}?user_id=${user.user_id}`, { title: 'renamed' });
    const listed = (await call('GET', `/chats/?user_id=${user.user_id}&limit=1`)).json;
    expect(listed[0]).toMatchObject({ chat_id: chat.chat_id, title: 'renamed' });
    await call('DELETE', `/chats/${chat.chat_id}?user_id=${user.user_id}`);
    expect((await call('GET', `/chats/${chat.chat_id}`)).status).toBe(404);
  });

  it('leaves a read whose SQL failed to the route’s operation, which answers', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const rows = jest.spyOn(sql, 'rows').mockRejectedValue(new Error('no such column: c.branched'));
    const failed = await directReads(gateway(), 'failed');
    try {
      const { status, direct } = await compare(`/chats/${chats.plain}`);
      expect({ status, direct }).toEqual({ status: 200, direct: false });
      expect(await directReads(gateway(), 'failed')).toBe(failed + 2);
    } finally {
      rows.mockRestore();
    }
  });

  it('answers 503 at once when the database cannot be reached, as the operation would', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const rows = jest.spyOn(sql, 'rows').mockRejectedValue(refused);
    const findFirst = jest.spyOn(db().chat, 'findFirst');
    try {
      const r = await call('GET', `/chats/${chats.plain}`);
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.json).toEqual({ detail: 'The database is unavailable; try again in a few seconds' });
      // Not asked twice: the route's operation did not run.
      expect(findFirst).not.toHaveBeenCalled();
    } finally {
      rows.mockRestore();
      findFirst.mockRestore();
    }
  });

  it('runs one statement for the list, and one for a chat on PostgreSQL (two on SQLite)', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const rows = jest.spyOn(sql, 'rows');
    try {
      await call('GET', `/chats/${chats.plain}`);
      expect(rows).toHaveBeenCalledTimes(usePostgres ? 1 : 2);
      rows.mockClear();
      await call('GET', `/chats/?user_id=${user.user_id}`);
      expect(rows).toHaveBeenCalledTimes(1);
    } finally {
      rows.mockRestore();
    }
  });

  it('leaves a route whose selection changed in routes.ts to its operation', async () => {
    const route = compileRoutes(schema, testConfig(SMALL_READS)).find(
      (r) => r.method === 'GET' && r.path === '/chats/:chat_id',
    );
    if (!route) throw new Error('no route GET /chats/:chat_id');
    const ctx = { ...gateway().services, authenticated: true, userId: null, isAdmin: false, failure: null } as Context;
    const args = { chat_id: chats.plain };
    expect(JSON.parse((await readDirectly(route, ctx, args)) ?? 'null')).toMatchObject({ chat_id: chats.plain });
    // A field added to the route's answer: the direct read does not answer it.
    const widened = { ...route, selection: route.selection.replace('timestamp', 'timestamp parent_id') };
    expect(await readDirectly(widened, ctx, args)).toBeUndefined();
  });

  it('is off with REST_DIRECT_READS=false', async () => {
    await fetchFrom(plain, `/chats/${chats.plain}`);
    await fetchFrom(plain, '/chats/');
    for (const outcome of ['served', 'declined', 'failed'] as const) expect(await directReads(plain, outcome)).toBe(0);
  });
});

describe('direct reads with AUTH_MODE=jwt', () => {
  let secured: Gateway;
  let securedPlain: Gateway;

  beforeAll(async () => {
    secured = await createGateway(testConfig({ ...SMALL_READS, ...JWT_AUTH }));
    securedPlain = await createGateway(testConfig({ ...SMALL_READS, ...JWT_AUTH, REST_DIRECT_READS: 'false' }));
  });
  afterAll(async () => {
    await secured.close();
    await securedPlain.close();
  });

  it('answers each caller as the resolvers do', async () => {
    const a = await createUser('direct-jwt-a');
    const b = await createUser('direct-jwt-b');
    const chat = await newChat(a);
    await addMessage(chat.chat_id, 'mine');
    const callers = await jwtCallers(a, b);
    const seen: Record<string, string[]> = {};
    for (const [caller, headers] of callers) {
      seen[caller] = [];
      for (const path of [
        `/chats/${chat.chat_id}`,
        `/chats/${chat.chat_id}?user_id=${a}`,
        `/chats/?user_id=${a}`,
        '/chats/',
      ]) {
        const { status, direct } = await compare(path, headers, secured, securedPlain);
        seen[caller]?.push(`${status}${direct ? ' direct' : ''}`);
      }
    }
    // Not the same answer for everyone: the access rules ran, and the direct reads answered
    // every caller the resolvers let through, except another user's chat (a 404 is theirs).
    expect(seen).toEqual({
      anonymous: ['401', '401', '401', '401'],
      owner: ['200 direct', '200 direct', '200 direct', '200 direct'],
      other: ['404', '404', '200 direct', '200 direct'],
      admin: ['200 direct', '200 direct', '200 direct', '200 direct'],
      'admin who is a user': ['200 direct', '200 direct', '200 direct', '200 direct'],
      'bad token': ['401', '401', '401', '401'],
    });
  });
});
