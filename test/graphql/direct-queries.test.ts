import { createGateway, type Gateway } from '../../src/app';
import { createUser } from '../support/auth-matrix';
import { configureGateway, db, gateway, testConfig } from '../support/gateway';
import { addMessage, call, gql, newChat, newUser, type Reply, readReply } from '../support/http';
import { JWT_AUTH, jwtCallers, SHORT_DEADLINE, SMALL_READS } from '../support/settings';

/*
 * The /graphql queries `chat` and `chats` are answered from SQL (src/graphql/direct-queries.ts)
 * when their selection allows. Here the same queries go to this file's gateway and to one on the
 * same database without direct reads (GRAPHQL_DIRECT_READS=false), whose answers come from the
 * resolvers, and the answers must be the same to the byte. Each case also says whether the direct
 * read answered it, so a case that silently stopped being read directly fails too.
 */

configureGateway(SMALL_READS);

let plain: Gateway;

beforeAll(async () => {
  plain = await createGateway(testConfig({ ...SMALL_READS, GRAPHQL_DIRECT_READS: 'false' }));
});
afterAll(() => plain.close());

type Body = { query: string; variables?: Record<string, unknown>; operationName?: string };

async function post(target: Gateway, body: Body, headers: Record<string, string> = {}): Promise<Reply> {
  return readReply(
    await target.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

const answerOf = (r: Reply) => ({ status: r.status, type: r.headers.get('content-type'), body: r.text });

async function directReads(target: Gateway, outcome: 'served' | 'declined' | 'failed' = 'served') {
  let total = 0;
  for (const field of ['chat', 'chats']) {
    total += await target.services.metrics.value('graphql_direct_reads_total', { field, outcome });
  }
  return total;
}

/**
 * The answer over a socket and through Yoga's fetch handler, both from this file's gateway, each
 * equal to the resolvers' answer; and whether the direct read served both.
 */
async function compare(body: Body, headers: Record<string, string> = {}, target = gateway(), reference = plain) {
  const before = await directReads(target);
  const overSocket =
    target === gateway() ? await call('POST', '/graphql', body, { accept: 'application/json', ...headers }) : undefined;
  const throughYoga = await post(target, body, headers);
  const served = (await directReads(target)) - before;
  const expected = answerOf(await post(reference, body, headers));
  const query = body.query;
  if (overSocket) expect({ query, ...answerOf(overSocket) }).toEqual({ query, ...expected });
  expect({ query, ...answerOf(throughYoga) }).toEqual({ query, ...expected });
  expect({ query, served: served === 0 || served === (overSocket ? 2 : 1) }).toEqual({ query, served: true });
  return { status: throughYoga.status, direct: served > 0, json: throughYoga.json };
}

const G = 'chat_id title created_at user_id messages { message_id chat_id content sender timestamp }';

describe('/graphql queries read directly', () => {
  let user: Awaited<ReturnType<typeof newUser>>;
  let other: Awaited<ReturnType<typeof newUser>>;
  const chats: Record<string, number> = {};

  beforeAll(async () => {
    user = await newUser('gdirect');
    other = await newUser('gdirect-other');
    chats.plain = (await newChat(user.user_id)).chat_id;
    for (const content of ['first', 'a "quoted" \\ back\nslash\t\u0001', 'line\u2028sep 🦜 é', 'fourth']) {
      await addMessage(chats.plain, content);
    }
    await addMessage(chats.plain, 'an answer', 'ai');
    chats.long = (await newChat(user.user_id)).chat_id;
    for (let i = 0; i < 8; i++) await addMessage(chats.long, `m${i}`, i % 2 ? 'ai' : 'user');
    chats.empty = (await newChat(user.user_id)).chat_id;
    chats.anonymous = (await newChat()).chat_id;
    await addMessage(chats.anonymous, 'from nobody');
    chats.others = (await newChat(other.user_id)).chat_id;
    chats.branched = (await newChat(user.user_id)).chat_id;
    const root = await addMessage(chats.branched, 'root');
    await addMessage(chats.branched, 'first answer', 'ai');
    await call('POST', `/chats/${chats.branched}/messages`, {
      content: 'second',
      sender: 'ai',
      parent_id: root.message_id,
    });
    chats.zoneless = (await newChat(user.user_id)).chat_id;
    const zoneless = await addMessage(chats.zoneless, 'no zone');
    await db().$executeRawUnsafe(
      `UPDATE "Chat" SET created_at = '2024-01-03 04:05:06' WHERE chat_id = ${chats.zoneless}`,
    );
    await db().$executeRawUnsafe(
      `UPDATE "Message" SET "timestamp" = '2024-01-03 04:05:07.5' WHERE message_id = ${zoneless.message_id}`,
    );
    chats.oddSender = (await newChat(user.user_id)).chat_id;
    const odd = await addMessage(chats.oddSender, 'beep');
    await db().message.update({ where: { message_id: odd.message_id }, data: { sender: 'robot' } });
    chats.archived = (await newChat(user.user_id)).chat_id;
    await call('PUT', `/chats/${chats.archived}?user_id=${user.user_id}`, { archived: true, pinned: true });
  });

  it('answers `chat` as the resolvers do, in the order asked, and leaves what it cannot to them', async () => {
    const u = user.user_id;
    const byId = (selection: string, id: number, more = '') => ({
      query: `query ($id: Int!${more ? ', $u: Int' : ''}) { chat(chat_id: $id${more}) { ${selection} } }`,
      variables: more ? { id, u } : { id },
    });
    const cases: [Body, { status: number; direct: boolean }][] = [
      // The harness' query (g), and its variations.
      [byId(G, chats.plain as number), { status: 200, direct: true }],
      [byId(G, chats.plain as number, ', user_id: $u'), { status: 200, direct: true }],
      [{ query: `{ chat(chat_id: ${chats.long}) { ${G} } }` }, { status: 200, direct: true }],
      [byId(G, chats.empty as number), { status: 200, direct: true }],
      [byId(G, chats.anonymous as number), { status: 200, direct: true }],
      [byId(G, chats.zoneless as number), { status: 200, direct: true }],
      [byId('messages { timestamp content } user_id chat_id', chats.plain as number), { status: 200, direct: true }],
      [byId('title', chats.plain as number), { status: 200, direct: true }],
      // Without `messages`, a branched chat is the chat alone.
      [byId('title user_id', chats.branched as number), { status: 200, direct: true }],
      [byId('title messages(limit: 2) { content }', chats.long as number), { status: 200, direct: true }],
      [
        {
          query: 'query ($id: Int!, $n: Int) { chat(chat_id: $id) { messages(limit: $n) { message_id } } }',
          variables: { id: chats.long, n: 3 },
        },
        { status: 200, direct: true },
      ],
      [byId('messages(limit: 5) { content }', chats.long as number), { status: 200, direct: true }],
      [byId('messages(limit: null) { content }', chats.long as number), { status: 200, direct: true }],
      [{ query: `{ chat(chat_id: ${chats.plain}, user_id: null) { title } }` }, { status: 200, direct: true }],
      [
        {
          query: 'query ($id: Int!, $n: Int = 2) { chat(chat_id: $id) { messages(limit: $n) { content } } }',
          variables: { id: chats.long },
        },
        { status: 200, direct: true },
      ],
      [
        {
          query: `query A { chat(chat_id: ${chats.plain}) { title } } query B { chats { title } }`,
          operationName: 'A',
        } as Body,
        { status: 200, direct: false },
      ],
      [
        { query: `query Named { chat(chat_id: ${chats.plain}) { title } }`, operationName: 'Named' } as Body,
        { status: 200, direct: true },
      ],
      // Left to the executor: what the resolvers refuse or read differently.
      [byId(G, chats.branched as number), { status: 200, direct: false }],

      [byId(G, chats.oddSender as number), { status: 200, direct: false }],
      [byId(G, chats.others as number, ', user_id: $u'), { status: 200, direct: false }],
      [byId(G, 2147483647), { status: 200, direct: false }],
      [byId('messages(limit: 6) { content }', chats.long as number), { status: 200, direct: false }],
      [byId('messages(limit: 0) { content }', chats.long as number), { status: 200, direct: false }],
      [
        { query: 'query ($id: Int!) { chat(chat_id: $id) { title } }', variables: { id: 'x' } },
        { status: 400, direct: false },
      ],
      [
        { query: 'query ($id: Int!) { chat(chat_id: $id) { title } }', variables: {} },
        { status: 400, direct: false },
      ],
      // Not planned at all: an alias, a directive, a fragment, a field the read does not give, two fields.
      [byId('name: title', chats.plain as number), { status: 200, direct: false }],
      [byId('title @include(if: true)', chats.plain as number), { status: 200, direct: false }],
      [byId('title message_count', chats.plain as number), { status: 200, direct: false }],
      [byId('title messages { parent_id }', chats.plain as number), { status: 200, direct: false }],
      [byId('title title', chats.plain as number), { status: 200, direct: false }],
      [byId('__typename title', chats.plain as number), { status: 200, direct: false }],
      [
        { query: `query { chat(chat_id: ${chats.plain}) { ...f } } fragment f on Chat { title }` },
        { status: 200, direct: false },
      ],
      [{ query: `query { chat(chat_id: ${chats.plain}) { title } chats { title } }` }, { status: 200, direct: false }],
    ];
    for (const [body, expected] of cases) {
      const { status, direct } = await compare(body);
      expect({ query: body.query, variables: body.variables, status, direct }).toEqual({
        query: body.query,
        variables: body.variables,
        ...expected,
      });
    }
    // What the cases read: the newest MAX_MESSAGES_PER_READ (5) by default, oldest first; times in UTC.
    const long = (await gql(`{ chat(chat_id: ${chats.long}) { messages { content } } }`)).json;
    expect(long.data.chat.messages.map((m: { content: string }) => m.content)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    const zoneless = (await gql(`{ chat(chat_id: ${chats.zoneless}) { created_at messages { timestamp } } }`)).json;
    expect(zoneless.data.chat).toEqual({
      created_at: '2024-01-03T04:05:06.000Z',
      messages: [{ timestamp: '2024-01-03T04:05:07.500Z' }],
    });
    // The executor's refusals came through as its own.
    const missing = (await gql('query ($id: Int!) { chat(chat_id: $id) { title } }', { id: 2147483647 })).json;
    expect(missing.errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('answers `chats` as the resolvers do, with its filters and pages, and leaves the rest to them', async () => {
    const u = user.user_id;
    const list = (args: string, selection = 'chat_id user_id title created_at') => ({
      query: `{ chats${args} { ${selection} } }`,
    });
    const cases: [Body, { status: number; direct: boolean }][] = [
      [list(`(user_id: ${u})`), { status: 200, direct: true }],
      [list(`(user_id: ${u}, limit: 2, offset: 1)`), { status: 200, direct: true }],
      [list(`(user_id: ${u}, archived: true)`), { status: 200, direct: true }],
      [list(`(user_id: ${u}, archived: true, pinned: true)`, 'title chat_id'), { status: 200, direct: true }],
      [list(''), { status: 200, direct: true }],
      [
        list('(user_id: null, pinned: null, archived: null, folder_id: null, tag: null)'),
        { status: 200, direct: true },
      ],
      [list(`(user_id: ${u}, folder_id: 2147483647)`), { status: 200, direct: true }],
      [list(`(user_id: ${u}, limit: null)`), { status: 200, direct: false }],
      [
        { query: 'query ($n: Int) { chats(limit: $n) { chat_id } }', variables: { n: 3 } },
        { status: 200, direct: true },
      ],
      [list(`(user_id: ${u}, tag: ["x"])`), { status: 200, direct: false }],
      [list(`(user_id: ${u}, limit: 0)`), { status: 200, direct: false }],
      [list(`(user_id: ${u}, limit: 101)`), { status: 200, direct: false }],
      [list(`(user_id: ${u}, offset: -1)`), { status: 200, direct: false }],
      [list(`(user_id: ${u})`, 'chat_id pinned'), { status: 200, direct: false }],
    ];
    for (const [body, expected] of cases) {
      const { status, direct } = await compare(body);
      expect({ query: body.query, status, direct }).toEqual({ query: body.query, ...expected });
    }
  });

  it('reads what was just written', async () => {
    const chat = await newChat(user.user_id);
    const read = `{ chat(chat_id: ${chat.chat_id}) { title messages { message_id content } } }`;
    for (let i = 0; i < 3; i++) {
      const added = await addMessage(chat.chat_id, `now ${i}`);
      const answer = (await gql(read)).json;
      expect(answer.data.chat.messages.at(-1)).toEqual({ message_id: added.message_id, content: `now ${i}` });
    }
    await gql(`mutation { update_chat(chat_id: ${chat.chat_id}, title: "renamed") { title } }`);
    expect((await gql(read)).json.data.chat.title).toBe('renamed');
  });

  it('leaves a query whose SQL failed to the executor, which answers', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const rows = jest.spyOn(sql, 'rows').mockRejectedValue(new Error('no such column: c.branched'));
    const failed = await directReads(gateway(), 'failed');
    try {
      const { status, direct, json } = await compare({ query: `{ chat(chat_id: ${chats.plain}) { ${G} } }` });
      expect({ status, direct }).toEqual({ status: 200, direct: false });
      expect(json.data.chat.messages).toHaveLength(5);
      expect(await directReads(gateway(), 'failed')).toBe(failed + 2);
    } finally {
      rows.mockRestore();
    }
  });

  it('answers SERVICE_UNAVAILABLE at once when the database cannot be reached, as the executor does', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const rows = jest.spyOn(sql, 'rows').mockRejectedValue(refused);
    const findFirst = jest.spyOn(db().chat, 'findFirst');
    // The executor's answer to the same outage, from the Prisma client.
    const unreachable = Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), {
      name: 'PrismaClientInitializationError',
    });
    const plainFindFirst = jest.spyOn(plain.services.db.chat, 'findFirst').mockRejectedValue(unreachable);
    const unavailable = () => gateway().services.metrics.value('database_unavailable_total');
    try {
      const before = await unavailable();
      const body = { query: `{ chat(chat_id: ${chats.plain}) { ${G} } }` };
      const direct = await post(gateway(), body);
      expect(answerOf(direct)).toEqual(answerOf(await post(plain, body)));
      expect(direct.json.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      // Not asked twice: the executor did not run.
      expect(findFirst).not.toHaveBeenCalled();
      expect(await unavailable()).toBe(before + 1);
    } finally {
      rows.mockRestore();
      findFirst.mockRestore();
      plainFindFirst.mockRestore();
    }
  });

  it('answers DEADLINE_EXCEEDED at the deadline while the read still waits, without asking the executor', async () => {
    const short = await createGateway(testConfig({ ...SMALL_READS, ...SHORT_DEADLINE }));
    const sql = short.services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    let release: () => void = () => undefined;
    const rows = jest
      .spyOn(sql, 'rows')
      .mockImplementation(() => new Promise((resolve) => (release = () => resolve([]))));
    const findFirst = jest.spyOn(short.services.db.chat, 'findFirst');
    try {
      // The read never ends on its own (it is released below): only the deadline answers.
      const r = await post(short, { query: `{ chat(chat_id: ${chats.plain}) { ${G} } }` });
      expect(r.json.errors[0].extensions.code).toBe('DEADLINE_EXCEEDED');
      expect(findFirst).not.toHaveBeenCalled();
    } finally {
      release();
      rows.mockRestore();
      findFirst.mockRestore();
      await short.close();
    }
  });

  it('leaves REST’s operations alone (they have their own direct reads)', async () => {
    const before = (await directReads(gateway(), 'served')) + (await directReads(gateway(), 'declined'));
    await call('GET', `/chats/${chats.plain}`);
    await call('GET', `/chats/${chats.branched}`);
    await call('GET', '/chats/');
    const after = (await directReads(gateway(), 'served')) + (await directReads(gateway(), 'declined'));
    expect(after).toBe(before);
  });

  it('is off with GRAPHQL_DIRECT_READS=false', async () => {
    await post(plain, { query: `{ chat(chat_id: ${chats.plain}) { ${G} } }` });
    for (const outcome of ['served', 'declined', 'failed'] as const) expect(await directReads(plain, outcome)).toBe(0);
  });
});

describe('/graphql queries read directly, with AUTH_MODE=jwt', () => {
  let secured: Gateway;
  let securedPlain: Gateway;

  beforeAll(async () => {
    secured = await createGateway(testConfig({ ...SMALL_READS, ...JWT_AUTH }));
    securedPlain = await createGateway(testConfig({ ...SMALL_READS, ...JWT_AUTH, GRAPHQL_DIRECT_READS: 'false' }));
  });
  afterAll(async () => {
    await secured.close();
    await securedPlain.close();
  });

  it('answers each caller as the resolvers do', async () => {
    const a = await createUser('gdirect-jwt-a');
    const b = await createUser('gdirect-jwt-b');
    const chat = await newChat(a);
    await addMessage(chat.chat_id, 'mine');
    const callers = await jwtCallers(a, b);
    const seen: Record<string, string[]> = {};
    for (const [caller, headers] of callers) {
      seen[caller] = [];
      for (const query of [
        `{ chat(chat_id: ${chat.chat_id}) { ${G} } }`,
        `{ chat(chat_id: ${chat.chat_id}, user_id: ${a}) { title } }`,
        `{ chats(user_id: ${a}) { chat_id title } }`,
        '{ chats { chat_id } }',
      ]) {
        const { status, direct, json } = await compare({ query }, headers, secured, securedPlain);
        const code = json.errors?.[0]?.extensions?.code;
        seen[caller]?.push(`${status}${code ? ` ${code}` : ''}${direct ? ' direct' : ''}`);
      }
    }
    expect(seen).toEqual({
      anonymous: ['200 UNAUTHENTICATED', '200 UNAUTHENTICATED', '200 UNAUTHENTICATED', '200 UNAUTHENTICATED'],
      owner: ['200 direct', '200 direct', '200 direct', '200 direct'],
      other: ['200 NOT_FOUND', '200 NOT_FOUND', '200 direct', '200 direct'],
      admin: ['200 direct', '200 direct', '200 direct', '200 direct'],
      'admin who is a user': ['200 direct', '200 direct', '200 direct', '200 direct'],
      'bad token': ['200 UNAUTHENTICATED', '200 UNAUTHENTICATED', '200 UNAUTHENTICATED', '200 UNAUTHENTICATED'],
    });
  });
});
