import { prisma } from '../src/db';
import { logStream } from '../src/logger';
import { call, gql, newChat } from './http';

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
    ['GET', '/'],
  ])('exposes only mapped routes: %s %s is 404 with a JSON detail', async (method, path) => {
    const r = await call(method, path, method === 'POST' ? {} : undefined);
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ detail: 'Not Found' });
  });

  it('answers a wrong method on a mapped path with 405 and Allow', async () => {
    const r = await call('PATCH', '/chats/1', {});
    expect(r.status).toBe(405);
    expect(r.json).toEqual({ detail: 'Method Not Allowed' });
    expect(r.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'PUT']);
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

  it('are masked: REST 500 {"detail": "Internal Server Error"}, GraphQL INTERNAL_SERVER_ERROR', async () => {
    jest.spyOn(prisma.chat, 'findMany').mockRejectedValue(new Error('secret database detail'));
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

  it('are logged with the request’s method and path and the original stack', async () => {
    jest.spyOn(prisma.chat, 'findMany').mockRejectedValue(new Error('disk on fire'));
    await call('GET', '/chats/?limit=5');
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ method: 'GET', path: '/chats/', err: { message: 'disk on fire' } });
    expect(errors[0].err.stack).toMatch(/disk on fire\n\s+at /);
    expect(typeof errors[0].req_id).toBe('string');
  });
});
