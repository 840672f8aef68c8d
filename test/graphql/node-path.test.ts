import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createGateway, type Gateway } from '../../src/app';
import { gateway, testConfig } from '../support/gateway';
import { addMessage, newChat, newUser, type Reply, readReply, sendRaw } from '../support/http';
import { JWT_AUTH, jwtCallers, SHORT_DEADLINE } from '../support/settings';

/*
 * The Node fast path for /graphql (src/graphql/node-path.ts) answers exactly as Yoga does. Each
 * request here is sent over a socket, where the fast path may take it, and through Yoga's fetch
 * handler, and the two answers are compared: status, headers and body. Each case also says what
 * the fast path did with it (served it, took it and handed it to Yoga, or left it alone), so a
 * case that silently stopped taking its path fails too.
 */

/**
 * What the fast path did with a request: read it directly (a direct read outside the executor
 * answered it), served it through Yoga's pipeline, handed it to Yoga with its body, or left it.
 */
type Outcome = 'read directly' | 'served' | 'handed off' | 'left to Yoga';

const sockets = new Map<Gateway, Promise<{ port: number; close: () => Promise<void> }>>();

/** The gateway's Node listener on a socket of its own, as production serves it (src/index.ts). */
function socketOf(target: Gateway) {
  let started = sockets.get(target);
  if (!started) {
    const server = createServer(target.listener);
    started = new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve({
          port: (server.address() as AddressInfo).port,
          close: async () => {
            server.closeAllConnections();
            await new Promise((done) => server.close(done));
          },
        }),
      ),
    );
    sockets.set(target, started);
  }
  return started;
}

afterAll(async () => {
  for (const started of sockets.values()) await (await started).close();
});

/** A POST over a socket; `body` is sent as given, with its Content-Length unless the headers say otherwise. */
async function overSocket(
  target: Gateway,
  body: string | Buffer,
  headers: Record<string, string>,
  method = 'POST',
  path = '/graphql',
): Promise<Reply> {
  const { port } = await socketOf(target);
  const sent: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (method !== 'GET') sent['content-length'] ??= String(Buffer.byteLength(body));
  return sendRaw(port, { method, path, headers: sent, body: method === 'GET' ? undefined : body });
}

async function throughYoga(
  target: Gateway,
  body: string | Buffer,
  headers: Record<string, string>,
  method = 'POST',
  path = '/graphql',
): Promise<Reply> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (method !== 'GET') init.body = typeof body === 'string' ? body : new Uint8Array(body);
  return readReply(await target.yoga.fetch(`http://localhost${path}`, init));
}

/** What must match: status, headers (any case; not the framing and per-response ones) and body. */
function comparable(r: Reply) {
  const headers: Record<string, string> = {};
  r.headers.forEach((value, given) => {
    const name = given.toLowerCase();
    if (!['date', 'connection', 'keep-alive', 'x-request-id', 'transfer-encoding', 'content-length'].includes(name)) {
      headers[name] = value;
    }
  });
  return { status: r.status, headers, body: r.body.toString('base64') };
}

function outcomeOf(
  target: Gateway,
  before: { served: number; direct: number; handedOff: number },
): Outcome | 'several' {
  const after = target.nodePathStats().graphql;
  const served = after.served - before.served;
  const direct = after.direct - before.direct;
  const handedOff = after.handedOff - before.handedOff;
  if (served === 1 && handedOff === 0) return direct === 1 ? 'read directly' : 'served';
  if (served === 0 && handedOff === 1) return 'handed off';
  if (served === 0 && handedOff === 0) return 'left to Yoga';
  return 'several';
}

/**
 * Sends `body` through Yoga first (so that Yoga has parsed and validated its document, as it has
 * every document the fast path serves), then over the socket; the answers must be equal, and the
 * fast path must have done `expected` with the socket's request.
 */
async function compare(
  expected: Outcome,
  body: string | Buffer | object,
  headers: Record<string, string> = {},
  { target = gateway(), method = 'POST', path = '/graphql', socketFirst = false } = {},
) {
  const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const viaYoga = socketFirst ? undefined : await throughYoga(target, bytes, headers, method, path);
  const before = target.nodePathStats().graphql;
  const fast = await overSocket(target, bytes, headers, method, path);
  const outcome = outcomeOf(target, before);
  const reference = viaYoga ?? (await throughYoga(target, bytes, headers, method, path));
  expect({ outcome, ...comparable(fast) }).toEqual({ outcome: expected, ...comparable(reference) });
  return fast;
}

const CHAT = `query($id: Int!) { chat(chat_id: $id) { chat_id title created_at user_id
  messages { message_id chat_id content sender timestamp } } }`;

let chatId: number;
let userId: number;

beforeAll(async () => {
  userId = (await newUser('graphql-node')).user_id;
  chatId = (await newChat(userId)).chat_id;
  await addMessage(chatId, 'a question', 'user');
  await addMessage(chatId, 'an answer', 'ai');
});

describe('the /graphql Node fast path serves queries as Yoga does', () => {
  it('a chat read directly, and the chat list', async () => {
    const chat = await compare('read directly', { query: CHAT, variables: { id: chatId } });
    expect(JSON.parse(chat.text).data.chat.messages).toHaveLength(2);
    await compare('read directly', { query: `{ chats(user_id: ${userId}, limit: 5) { chat_id title } }` });
  });

  it('a query the executor answers (an alias, a field the direct reads do not give)', async () => {
    await compare('served', { query: `{ it: chat(chat_id: ${chatId}) { chat_id messages(limit: 1) { content } } }` });
    await compare('served', { query: `{ user(user_id: ${userId}) { username } }` });
  });

  it('answers with errors: not found, bad variables, a missing variable', async () => {
    const missing = await compare('served', { query: CHAT, variables: { id: 999_999_999 } });
    expect(JSON.parse(missing.text).errors[0].extensions.code).toBe('NOT_FOUND');
    await compare('served', { query: CHAT, variables: { id: 'one' } });
    await compare('served', { query: CHAT });
    await compare('served', { query: CHAT, variables: { id: 2 ** 40 } });
  });

  it('operationName (one of two operations), and null variables and operationName', async () => {
    const two = `query A { chats(limit: 1) { chat_id } } query B { chats(limit: 2) { title } }`;
    // A document of two operations is the executor's (the direct reads take one).
    await compare('served', { query: two, operationName: 'B' });
    await compare('read directly', { query: `{ chats(limit: 1) { chat_id } }`, variables: null, operationName: null });
    // An operation name the document does not have: Yoga's error, from Yoga.
    await compare('handed off', { query: two, operationName: 'C' });
  });

  it('the request headers that do not change the answer’s format: a charset, Accept, X-Request-Id', async () => {
    const body = { query: CHAT, variables: { id: chatId } };
    await compare('read directly', body, { 'content-type': 'application/json; charset=utf-8' });
    await compare('read directly', body, { accept: 'application/json' });
    await compare('read directly', body, { accept: '*/*' });
    const given = await compare('read directly', body, { 'x-request-id': 'graphql-fast-1' });
    expect(given.headers.get('x-request-id')).toBe('graphql-fast-1');
  });

  it('compresses a large answer as Yoga does', async () => {
    const long = (await newChat(userId)).chat_id;
    await addMessage(long, 'a long answer '.repeat(200), 'ai');
    const reply = await compare(
      'read directly',
      { query: CHAT, variables: { id: long } },
      { 'accept-encoding': 'gzip' },
    );
    expect(reply.headers.get('content-encoding')).toBe('gzip');
  });

  it('counts the request in the response metrics with its operation, as Yoga does', async () => {
    const countOf = async () => {
      const text = await gateway().services.metrics.render();
      const line = text
        .split('\n')
        .find((l) => l.includes('http_request_duration_seconds_count') && l.includes('operation="FastRead"'));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await countOf();
    await compare('read directly', { query: `query FastRead { chats(limit: 1) { chat_id } }` });
    // One through Yoga, one over the socket, with the same labels.
    expect(await countOf()).toBe(before + 2);
  });
});

describe('the direct reads on the /graphql fast path', () => {
  const reads = async (target: Gateway, outcome: 'served' | 'declined' | 'failed') =>
    target.services.metrics.value('graphql_direct_reads_total', { field: 'chat', outcome });

  it('serves a directly read query from the read alone, and counts it once', async () => {
    const body = { query: CHAT, variables: { id: chatId } };
    await throughYoga(gateway(), JSON.stringify(body), {});
    const served = await reads(gateway(), 'served');
    const findFirst = jest.spyOn(gateway().services.db.chat, 'findFirst');
    try {
      await compare('read directly', body);
      expect(findFirst).not.toHaveBeenCalled();
    } finally {
      findFirst.mockRestore();
    }
    // One read over the socket, one through Yoga.
    expect(await reads(gateway(), 'served')).toBe(served + 2);
  });

  it('leaves a read it declines to the executor, without reading a second time', async () => {
    const declined = await reads(gateway(), 'declined');
    const missing = await compare('served', { query: CHAT, variables: { id: 999_999_998 } });
    expect(JSON.parse(missing.text).errors[0].extensions.code).toBe('NOT_FOUND');
    expect(await reads(gateway(), 'declined')).toBe(declined + 2);
  });

  it('leaves a read whose SQL failed to the executor, without reading a second time', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const body = { query: CHAT, variables: { id: chatId } };
    await throughYoga(gateway(), JSON.stringify(body), {});
    const rows = jest.spyOn(sql, 'rows').mockRejectedValue(new Error('no such column: c.branched'));
    const failed = await reads(gateway(), 'failed');
    try {
      const reply = await compare('served', body);
      expect(JSON.parse(reply.text).data.chat.messages).toHaveLength(2);
      expect(rows).toHaveBeenCalledTimes(2);
      expect(await reads(gateway(), 'failed')).toBe(failed + 2);
    } finally {
      rows.mockRestore();
    }
  });

  it('answers SERVICE_UNAVAILABLE at once when the database cannot be reached, as Yoga’s pipeline does', async () => {
    const sql = gateway().services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const body = { query: CHAT, variables: { id: chatId } };
    await throughYoga(gateway(), JSON.stringify(body), {});
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const rows = jest.spyOn(sql, 'rows').mockRejectedValue(refused);
    const findFirst = jest.spyOn(gateway().services.db.chat, 'findFirst');
    const metric = (name: 'database_unavailable_total' | 'graphql_errors_total', labels = {}) =>
      gateway().services.metrics.value(name, labels);
    try {
      const unavailable = await metric('database_unavailable_total');
      const errors = await metric('graphql_errors_total', { code: 'SERVICE_UNAVAILABLE' });
      const reply = await compare('read directly', body);
      expect(JSON.parse(reply.text).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(findFirst).not.toHaveBeenCalled();
      // Each way counted alike: once over the socket, once through Yoga.
      expect(await metric('database_unavailable_total')).toBe(unavailable + 2);
      expect(await metric('graphql_errors_total', { code: 'SERVICE_UNAVAILABLE' })).toBe(errors + 2);
    } finally {
      rows.mockRestore();
      findFirst.mockRestore();
    }
  });

  it('answers DEADLINE_EXCEEDED at the deadline, as Yoga’s pipeline does, without asking the executor', async () => {
    const short = await createGateway(testConfig(SHORT_DEADLINE));
    const sql = short.services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const body = { query: CHAT, variables: { id: chatId } };
    await throughYoga(short, JSON.stringify(body), {});
    const releases: (() => void)[] = [];
    const rows = jest
      .spyOn(sql, 'rows')
      .mockImplementation(() => new Promise((resolve) => releases.push(() => resolve([]))));
    const findFirst = jest.spyOn(short.services.db.chat, 'findFirst');
    try {
      // The read never ends on its own (it is released below): only the deadline answers.
      const reply = await compare('read directly', body, {}, { target: short });
      expect(JSON.parse(reply.text).errors[0].extensions.code).toBe('DEADLINE_EXCEEDED');
      expect(findFirst).not.toHaveBeenCalled();
    } finally {
      for (const release of releases) release();
      rows.mockRestore();
      findFirst.mockRestore();
      await short.close();
    }
  });
});

describe('the /graphql fast path against Yoga over a socket', () => {
  // What yoga.fetch cannot show: the URL Yoga's Node adapter builds from the Host header.
  let off: Gateway;
  beforeAll(async () => {
    off = await createGateway(testConfig({ GRAPHQL_NODE_PATH: 'false' }));
  });
  afterAll(() => off.close());

  it.each([
    ['a usual Host', 'gateway.example:3000'],
    ['a Host with an underscore (a container name)', 'gateway_1:3000'],
  ])('builds the request URL from the Host header as Yoga does: %s', async (_name, host) => {
    const made = await throughYoga(
      gateway(),
      JSON.stringify({ query: `mutation { create_share(chat_id: ${chatId}) { share_id } }` }),
      {},
    );
    expect(made.status).toBe(200);
    const body = JSON.stringify({ query: `{ chat_shares(chat_id: ${chatId}) { share_id url } }` });
    await throughYoga(gateway(), body, {});
    const before = gateway().nodePathStats().graphql;
    const fast = await overSocket(gateway(), body, { host });
    expect(outcomeOf(gateway(), before)).toBe('served');
    const reference = await overSocket(off, body, { host });
    expect(comparable(fast)).toEqual(comparable(reference));
    expect(fast.text).toContain(`//${host}/shared/`);
  });

  it.each([
    ['a fragment mark', 'gw#'],
    ['a path', 'gw/nowhere?'],
    ['userinfo', 'user@gw'],
  ])('leaves to Yoga a Host that could move the path Yoga routes by: %s', async (_name, host) => {
    const body = JSON.stringify({ query: '{ chats(limit: 1) { chat_id } }' });
    await throughYoga(gateway(), body, {});
    const before = gateway().nodePathStats().graphql;
    const fast = await overSocket(gateway(), body, { host });
    expect(outcomeOf(gateway(), before)).toBe('left to Yoga');
    expect(comparable(fast)).toEqual(comparable(await overSocket(off, body, { host })));
  });
});

describe('the /graphql fast path’s deadline', () => {
  it('gives the executor what is left of the deadline after a direct read left the query to it', async () => {
    const short = await createGateway(testConfig(SHORT_DEADLINE));
    const sql = short.services.sql;
    if (!sql) throw new Error('this gateway reads directly');
    const body = { query: CHAT, variables: { id: chatId } };
    await throughYoga(short, JSON.stringify(body), {});
    // The read finds nothing after 350 ms (left to the executor), whose read takes 300 ms more:
    // past the 500 ms deadline, which cuts it, whichever way the request came.
    const rows = jest
      .spyOn(sql, 'rows')
      .mockImplementation(() => new Promise((resolve) => setTimeout(() => resolve([]), 350)));
    const findFirst = jest
      .spyOn(short.services.db.chat, 'findFirst')
      .mockImplementation((() => new Promise((resolve) => setTimeout(() => resolve(null), 300))) as never);
    try {
      const reply = await compare('served', body, {}, { target: short });
      expect(JSON.parse(reply.text).errors[0].extensions.code).toBe('DEADLINE_EXCEEDED');
      expect(findFirst).toHaveBeenCalled();
    } finally {
      rows.mockRestore();
      findFirst.mockRestore();
      await short.close();
    }
  });
});

describe('what the /graphql fast path takes but hands to Yoga, with the body it read', () => {
  it('a document Yoga has not yet parsed and validated', async () => {
    const query = `{ chats(limit: 3) { chat_id created_at } } # ${Date.now()}`;
    await compare('handed off', { query }, {}, { socketFirst: true });
    // The second time, Yoga has validated it.
    await compare('read directly', { query });
  });

  it('a mutation, an invalid document, a syntax error', async () => {
    await compare('handed off', { query: 'mutation { delete_chat(chat_id: 999999999) { message } }' });
    await compare('handed off', { query: '{ chats { no_such_field } }' });
    await compare('handed off', { query: '{ chats { ' });
  });

  it('a large mutation, its body handed over whole', async () => {
    const content = 'x'.repeat(gateway().services.config.maxMessageLength);
    const body = JSON.stringify({
      query: `mutation($c: String!) { add_message(chat_id: ${chatId}, content: $c, sender: user) { content } }`,
      variables: { c: content },
    });
    const before = gateway().nodePathStats().graphql;
    const reply = await overSocket(gateway(), body, {});
    expect(outcomeOf(gateway(), before)).toBe('handed off');
    expect(JSON.parse(reply.text).data.add_message.content).toBe(content);
  });

  it.each([
    ['malformed JSON', '{"query": '],
    ['a JSON array', '[{"query": "{ chats { chat_id } }"}]'],
    ['not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['an unknown parameter', JSON.stringify({ query: '{ chats { chat_id } }', other: 1 })],
    ['extensions', JSON.stringify({ query: '{ chats { chat_id } }', extensions: { persistedQuery: {} } })],
    ['a query that is not a string', JSON.stringify({ query: 42 })],
    ['variables that are a list', JSON.stringify({ query: CHAT, variables: [1] })],
    ['an operationName that is not a string', JSON.stringify({ query: CHAT, operationName: 7 })],
    ['no query', JSON.stringify({ variables: {} })],
  ])('%s', async (_name, body) => {
    await compare('handed off', body);
  });
});

describe('what the /graphql fast path leaves to Yoga', () => {
  const body = JSON.stringify({ query: CHAT, variables: { id: 1 } });

  it.each([
    ['an Accept of another format', { accept: 'application/graphql-response+json' }],
    ['an Accept Yoga refuses', { accept: 'text/html' }],
    ['an Origin (CORS and the cross-site check are Yoga’s)', { origin: 'https://elsewhere.example' }],
    ['a cross-site request', { 'sec-fetch-site': 'cross-site' }],
    ['another media type', { 'content-type': 'text/plain' }],
    ['a compressed body', { 'content-encoding': 'gzip' }],
  ])('%s', async (_name, headers) => {
    await compare('left to Yoga', body, headers);
  });

  it('a GET, and a POST to another path', async () => {
    const query = encodeURIComponent('{ chats(limit: 1) { chat_id } }');
    await compare('left to Yoga', '', {}, { method: 'GET', path: `/graphql?query=${query}` });
    await compare('left to Yoga', body, {}, { path: '/graphql?x=1' });
  });

  it('a body larger than MAX_BODY_BYTES (413)', async () => {
    const huge = JSON.stringify({
      query: `{ chats { chat_id } } #${'x'.repeat(gateway().services.config.maxBodyBytes)}`,
    });
    const reply = await compare('left to Yoga', huge);
    expect(reply.status).toBe(413);
  });
});

describe('the /graphql fast path under JWT authentication', () => {
  let jwt: Gateway;
  beforeAll(async () => {
    jwt = await createGateway(testConfig(JWT_AUTH));
  });
  afterAll(() => jwt.close());

  it('answers every caller as Yoga does, a refused token included', async () => {
    const body = { query: CHAT, variables: { id: chatId } };
    // Read directly for the callers the direct read serves; the others are the executor's to refuse.
    const outcomes: Record<string, Outcome> = {
      anonymous: 'served',
      owner: 'read directly',
      other: 'served',
      admin: 'read directly',
      'admin who is a user': 'read directly',
      'bad token': 'served',
    };
    const answers = new Set<string>();
    for (const [caller, headers] of await jwtCallers(userId, userId + 100_000)) {
      answers.add((await compare(outcomes[caller] as Outcome, body, headers, { target: jwt })).text);
    }
    // The callers get different answers (the owner its chat, others an error), each Yoga's.
    expect(answers.size).toBeGreaterThan(2);
  });
});

it('keeps serving after a client that went away mid-body', async () => {
  const { port } = await socketOf(gateway());
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"q',
      );
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  await compare('read directly', { query: CHAT, variables: { id: chatId } });
});

it('is off with GRAPHQL_NODE_PATH=false', async () => {
  const off = await createGateway(testConfig({ GRAPHQL_NODE_PATH: 'false' }));
  try {
    const body = { query: CHAT, variables: { id: chatId } };
    await compare('left to Yoga', body, {}, { target: off });
    await compare('left to Yoga', body, {}, { target: off });
  } finally {
    await off.close();
  }
});
