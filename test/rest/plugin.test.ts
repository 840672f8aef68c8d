import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logStream } from '../../src/http/logging';
import { configureGateway, db, gateway } from '../support/gateway';
import { call, gql, newChat } from '../support/http';

// The REST plugin inside Yoga, which serves every REST request the Node fast path leaves to it
// (browsers, CORS or rate limits on); test/rest/node-path.test.ts covers the fast path.
configureGateway({ REST_NODE_PATH: 'false' });

describe('the REST route map', () => {
  it.each([
    ['GET', '/user?user_id=1'],
    ['GET', '/chat/1'],
    ['GET', '/model-usage'],
    ['POST', '/webhook'],
    ['POST', '/webhook/1'],
    ['POST', '/create-chat'],
    ['GET', '/chats/1/'],
    ['GET', '/nothing-here'],
    ['POST', '/'],
  ])('exposes only mapped routes: %s %s is 404 with a JSON detail', async (method, path) => {
    const r = await call(method, path, method === 'POST' ? {} : undefined);
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ detail: 'Not Found' });
  });

  it('answers a wrong method on a mapped path with 405 and Allow', async () => {
    const r = await call('PATCH', '/chats/1', {});
    expect(r.status).toBe(405);
    expect(r.json).toEqual({ detail: 'Method Not Allowed' });
    expect(r.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PUT']);
  });

  it.each([
    ['GET', '/chats/users'],
    ['PUT', '/chats/users'],
    ['DELETE', '/chats/cleanup-empty'],
    ['GET', '/chats/debug/test-model-usage'],
  ])('a fixed path is never taken for /chats/{chat_id}: %s %s is 405', async (method, path) => {
    const r = await call(method, path, method === 'PUT' ? {} : undefined);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
  });

  it('answers HEAD like GET, without a body (over a real socket)', async () => {
    const server = createServer(gateway().yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await fetch(`http://127.0.0.1:${port}/chats/`, { method: 'HEAD' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(await r.text()).toBe('');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reads arguments only where the route documents them', async () => {
    const a = (await call('POST', '/chats/users', { username: 'a', email: `a-${Date.now()}@example.com` })).json;
    const b = (await call('POST', '/chats/users', { username: 'b', email: `b-${Date.now()}@example.com` })).json;
    const c = (await call('POST', '/chats/', { user_id: a.user_id })).json;
    // On PUT, user_id is the new owner and belongs in the body; a query parameter is ignored.
    const put = await call('PUT', `/chats/${c.chat_id}?user_id=${b.user_id}`, { title: 'renamed' });
    expect(put.json).toMatchObject({ user_id: a.user_id, title: 'renamed' });
    const noBody = await call('POST', `/chats/${c.chat_id}/messages?content=x&sender=ai`);
    expect(noBody.status).toBe(422);
    expect(noBody.json.detail).toMatch(/content/);
  });

  it.each([
    ['/chats/?limit=1&limit=2', /limit/],
    ['/chats/?limit[]=1', /limit/],
    ['/chats/?user_id[a]=1', /user_id/],
  ])('rejects the repeated or structured query parameter in %s with 422', async (path, detail) => {
    const r = await call('GET', path);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(detail);
  });

  it.each([
    ['POST', '/chats/users', { username: '\ud800', email: 'surrogate@example.com' }],
    ['POST', '/chats/users', { username: 'x', email: 'sur\udc00@example.com' }],
    ['PUT', '/chats/{id}', { title: 'x\ud800' }],
    ['POST', '/chats/{id}/messages', { content: 'a\udfffb', sender: 'user' }],
  ])('rejects a lone UTF-16 surrogate: %s %s %j is 422', async (method, path, body) => {
    const c = (await call('POST', '/chats/', {})).json;
    // JSON.stringify writes the lone surrogate as the escape "\\ud800", valid JSON.
    const r = await call(method, path.replace('{id}', String(c.chat_id)), JSON.stringify(body));
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(/Unicode|email/);
  });

  it.each([
    ['{bad json', /not valid JSON/],
    ['null', /JSON object/],
    ['[1, 2]', /JSON object/],
    ['"text"', /JSON object/],
    ['42', /JSON object/],
  ])('rejects the body %s with 422', async (body, detail) => {
    const r = await call('POST', '/chats/users', body);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(detail);
  });

  it('rejects a body over the size limit with 413', async () => {
    const c = await newChat();
    const r = await call('POST', `/chats/${c.chat_id}/messages`, { content: 'x'.repeat(1_100_000), sender: 'user' });
    expect(r.status).toBe(413);
    expect(typeof r.json.detail).toBe('string');
  });

  it('responds with application/json', async () => {
    const r = await call('GET', '/chats/');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('unexpected errors', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    jest.spyOn(logStream, 'write').mockImplementation((line: string) => lines.push(line) > 0);
  });
  afterEach(() => jest.restoreAllMocks());

  // The list is read straight from SQL first (src/rest/direct.ts): a failure there leaves it to
  // the route's operation, whose failure is the one answered.
  const failing = (message: string) => {
    jest.spyOn(db().chat, 'findMany').mockRejectedValue(new Error(message));
    const direct = gateway().services.sql;
    if (direct) jest.spyOn(direct, 'rows').mockRejectedValue(new Error(message));
  };

  it('are masked: REST 500 {"detail": "Internal Server Error"}, GraphQL INTERNAL_SERVER_ERROR', async () => {
    failing('secret database detail');
    const rest = await call('GET', '/chats/');
    expect(rest.status).toBe(500);
    expect(rest.json).toEqual({ detail: 'Internal Server Error' });
    const graphql = await gql('{ chats { chat_id } }');
    expect(graphql.status).toBe(200);
    expect(graphql.json.errors[0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(graphql.text).not.toMatch(/secret/);
  });

  it('stay masked with NODE_ENV=development: no stack or original error reaches the client', async () => {
    failing('secret database detail');
    process.env.NODE_ENV = 'development';
    try {
      const graphql = await gql('{ chats { chat_id } }');
      expect(graphql.json.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(graphql.text).not.toMatch(/secret|stack/);
    } finally {
      delete process.env.NODE_ENV;
    }
  });

  it('are logged with the request’s method and path and the original stack', async () => {
    failing('disk on fire');
    await call('GET', '/chats/?limit=5');
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error' || l.level === 'fatal');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ method: 'GET', path: '/chats/', err: { message: 'disk on fire' } });
    expect(errors[0].err.stack).toMatch(/disk on fire\n\s+at /);
    expect(typeof errors[0].req_id).toBe('string');
  });
});
