import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway } from '../../src/app';
import { logStream } from '../../src/http/logging';
import { testConfig } from '../support/gateway';
import { subscribe } from '../support/sse';

/*
 * Every line logged during a request names it (req_id, method, path), whether the gateway keeps an
 * async context per request (only with tracing or LOG_LEVEL=debug, for the statements' lines and
 * spans) or ties lines to requests explicitly (the rest of the time: src/http/logging.ts). Both
 * kinds of gateway are checked the same way, over a real socket, so REST requests take the Node
 * fast path and /graphql goes through Yoga; concurrent requests must never borrow each other's id.
 */

type Line = Record<string, unknown> & { msg?: string; level?: string; req_id?: string; err?: { message?: string } };

let lines: string[];
const logged = (): Line[] => lines.map((l) => JSON.parse(l));

describe.each([
  ['without an async context per request (LOG_LEVEL=info)', 'info'],
  ['with an async context per request (LOG_LEVEL=debug)', 'debug'],
])('lines logged during a request, %s', (_title, level) => {
  let gw: Gateway;
  let server: Server;
  let base: string;

  // Every line the gateway writes is captured (its background jobs log too, at debug), never printed.
  const capture = () => jest.spyOn(logStream, 'write').mockImplementation((line: string) => lines.push(line) > 0);

  beforeAll(async () => {
    lines = [];
    capture();
    // The executor's errors (Prisma made to fail), so no query is answered by a direct read.
    gw = await createGateway(testConfig({ LOG_LEVEL: level, GRAPHQL_DIRECT_READS: 'false' }));
    server = createServer(gw.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const json = { 'content-type': 'application/json' };
    const chat = await (await fetch(`${base}/chats/`, { method: 'POST', headers: json, body: '{}' })).json();
    const added = await fetch(`${base}/chats/${chat.chat_id}/messages`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ content: 'hello', sender: 'user' }),
    });
    expect(added.status).toBe(200);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gw.close();
    jest.restoreAllMocks();
  });
  beforeEach(() => {
    lines = [];
  });
  afterEach(() => {
    jest.restoreAllMocks();
    capture();
  });

  /** A failure that resolves after `ms`, so that concurrent requests overlap while they fail. */
  const failsAfter = (ms: number, message: string) => () =>
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(message)), ms));

  const graphql = (query: string, id: string) =>
    fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ query }),
    });

  it('an error Yoga masks on /graphql is logged with its own request, under concurrency', async () => {
    jest.spyOn(gw.services.db.chat, 'findMany').mockImplementation(failsAfter(30, 'list failed') as never);
    jest.spyOn(gw.services.db.chat, 'findFirst').mockImplementation(failsAfter(10, 'chat failed') as never);
    const [list, one] = await Promise.all([
      graphql('{ chats { chat_id } }', 'req-list'),
      graphql('{ chat(chat_id: 1) { title } }', 'req-chat'),
    ]);
    expect((await list.json()).errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect((await one.json()).errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    // A background job's error line (no request) is not what these tests are about.
    const errors = logged().filter((l) => l.level === 'error' && l.req_id !== undefined);
    expect(errors.map((l) => [l.err?.message, l.req_id, l.method, l.path]).sort()).toEqual([
      ['chat failed', 'req-chat', 'POST', '/graphql'],
      ['list failed', 'req-list', 'POST', '/graphql'],
    ]);
  });

  it('an error Yoga masks in a subscription (over Server-Sent Events) is logged with its request', async () => {
    jest.spyOn(gw.services.db.chat, 'findFirst').mockRejectedValue(new Error('subscribe failed'));
    const query = 'subscription ($c: Int!) { message_added(chat_id: $c) { message_id } }';
    const sub = await subscribe(base, query, { c: 1 }, { 'x-request-id': 'req-sub' });
    try {
      expect((await sub.next()).errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      sub.close();
    }
    // A background job's error line (no request) is not what these tests are about.
    const errors = logged().filter((l) => l.level === 'error' && l.req_id !== undefined);
    expect(errors.map((l) => [l.err?.message, l.req_id, l.path])).toEqual([
      ['subscribe failed', 'req-sub', '/graphql'],
    ]);
  });

  it('a failure while identifying the caller on /graphql is logged with its request', async () => {
    jest.spyOn(gw.services.auth, 'identify').mockRejectedValue(new Error('identify failed'));
    const r = await graphql('{ chats { chat_id } }', 'req-identify');
    expect(JSON.stringify(await r.json())).not.toMatch(/identify failed/);
    // A background job's error line (no request) is not what these tests are about.
    const errors = logged().filter((l) => l.level === 'error' && l.req_id !== undefined);
    expect(errors.map((l) => [l.err?.message, l.req_id, l.path])).toEqual([
      ['identify failed', 'req-identify', '/graphql'],
    ]);
  });

  it('a REST request served by the Node fast path logs its failures with its id', async () => {
    jest.spyOn(gw.services.db.chat, 'findMany').mockImplementation(failsAfter(5, 'list failed') as never);
    const direct = gw.services.sql;
    if (direct) jest.spyOn(direct, 'rows').mockRejectedValue(new Error('direct read failed'));
    const r = await fetch(`${base}/chats/?limit=5`, { headers: { 'x-request-id': 'req-rest' } });
    expect(r.status).toBe(500);
    const during = logged().filter((l) => l.msg !== 'request' && l.msg !== 'sql' && l.req_id !== undefined);
    // The direct read's failure (a warning: the operation answers), then the operation's (an error).
    expect(during.map((l) => [l.level, l.err?.message])).toEqual([
      ...(direct ? [['warn', 'direct read failed']] : []),
      ['error', 'list failed'],
    ]);
    for (const line of during) expect(line).toMatchObject({ req_id: 'req-rest', method: 'GET', path: '/chats/' });
  });

  it('the request line carries the id, method, path, status and duration', async () => {
    const r = await fetch(`${base}/chats/?limit=1`, { headers: { 'x-request-id': 'req-line' } });
    expect(r.status).toBe(200);
    const line = logged().find((l) => l.msg === 'request');
    expect(line).toMatchObject({ req_id: 'req-line', method: 'GET', path: '/chats/', status: 200, level: 'info' });
    expect(typeof line?.duration_ms).toBe('number');
  });

  if (level === 'debug') {
    it('each statement’s debug line names the request that ran it, under concurrency', async () => {
      const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
      await Promise.all([
        graphql('{ chats(limit: 2) { chat_id } }', 'req-a'),
        graphql('{ chats(limit: 3) { chat_id messages { message_id } } }', 'req-b'),
      ]);
      // The statements on chats and messages; the background jobs' (lease renewals) are no request's.
      const statements = logged().filter((l) => l.msg === 'sql' && /\bChat\b|\bMessage\b/.test(String(l.sql)));
      const ids = new Set(statements.map((l) => l.req_id));
      expect(ids).toEqual(new Set(['req-a', 'req-b']));
      // Only req-b reads messages (a second statement on SQLite, a join on PostgreSQL).
      const messageReads = statements.filter((l) => /[`"]Message[`"]/.test(String(l.sql)));
      expect(messageReads.length).toBeGreaterThan(0);
      for (const line of messageReads) expect(line.req_id).toBe('req-b');
      expect(run).toHaveBeenCalled();
    });
  } else {
    it('logs no statements, and makes no async context per request (it would cost every request)', async () => {
      const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
      expect((await graphql('{ chats(limit: 2) { chat_id } }', 'req-info')).status).toBe(200);
      expect((await fetch(`${base}/chats/?limit=2`)).status).toBe(200);
      expect(logged().filter((l) => l.msg === 'sql')).toEqual([]);
      expect(logged().filter((l) => l.msg === 'request')).toHaveLength(2);
      expect(run).not.toHaveBeenCalled();
    });
  }
});
