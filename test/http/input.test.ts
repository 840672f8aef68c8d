// What the HTTP layer accepts before anything runs: body size while streaming, UTF-8, media
// types, cross-site writes (fetch metadata), and the docs' asset lookup.

import { db, gateway } from '../support/gateway';
import { call, newChat, readReply, unique } from '../support/http';

const LIMIT = 1_048_576; // MAX_BODY_BYTES' default; test/support/setup-env.ts leaves it alone
const utf8 = new TextEncoder();
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

async function send(method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}) {
  return readReply(await gateway().yoga.fetch(`http://localhost${path}`, { method, headers, body }));
}

const counts = async () => ({
  users: await db().user.count(),
  chats: await db().chat.count(),
  messages: await db().message.count(),
  usage: await db().modelUsage.count(),
});

/** A body without a Content-Length that counts how much of it the server pulled. */
function streamedBody(head: string, total: number) {
  const chunk = new Uint8Array(16 * 1024).fill(0x61);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(utf8.encode(head));
    },
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

describe('a streamed body over MAX_BODY_BYTES', () => {
  it.each([
    ['REST', '/chats/users', '{"username":"'],
    ['GraphQL', '/graphql', '{"query":"{ chats { chat_id } }","x":"'],
  ])('%s: 413 after reading about the limit, not the whole body', async (_surface, path, head) => {
    const body = streamedBody(head, 8 * LIMIT);
    const r = await readReply(
      await gateway().yoga.fetch(`http://localhost${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body.stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(r.status).toBe(413);
    // What the stream had buffered ahead of the reader may come on top of the limit, no more.
    expect(body.pulled()).toBeLessThan(LIMIT + 256 * 1024);
    expect(r.headers.get('connection')).toBe('close');
  });

  it('is refused up front when Content-Length says so', async () => {
    const r = await send('POST', '/graphql', 'x'.repeat(LIMIT + 1), { 'content-type': 'application/json' });
    expect(r.status).toBe(413);
    expect(r.json.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('text must be valid UTF-8', () => {
  const badSequences = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82]];

  it.each(badSequences)('REST body with %j: 422, nothing stored', async (...bad) => {
    const before = await counts();
    const email = `${unique('utf8')}@example.com`;
    const r = await send('POST', '/chats/users', bytes('{"username":"ab', bad, `","email":"${email}"}`), {
      'content-type': 'application/json',
    });
    expect(r.status).toBe(422);
    expect(r.json).toEqual({ detail: 'The request body is not valid UTF-8' });
    expect(await counts()).toEqual(before);
  });

  it('REST message content with invalid UTF-8: 422, no message', async () => {
    const chat = await newChat();
    const r = await send(
      'POST',
      `/chats/${chat.chat_id}/messages`,
      bytes('{"sender":"user","content":"x', [0xff], '"}'),
      {
        'content-type': 'application/json',
      },
    );
    expect(r.status).toBe(422);
    expect(await db().message.count({ where: { chat_id: chat.chat_id } })).toBe(0);
  });

  it('/graphql body with invalid UTF-8: 400 BAD_REQUEST, nothing run', async () => {
    const before = await counts();
    const query = 'mutation($u: String!, $e: String!) { create_or_get_user(username: $u, email: $e) { user_id } }';
    const email = `${unique('utf8')}@example.com`;
    const body = bytes(`{"query":${JSON.stringify(query)},"variables":{"e":"${email}","u":"a`, [0xff], '"}}');
    const r = await send('POST', '/graphql', body, { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      errors: [{ message: 'The request body is not valid UTF-8', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['POST', '/chats/debug/test-model-usage?model_name=gpt-4o%FF'],
    ['POST', '/chats/debug/test-model-usage?model_name=gpt-4o&x=%C0%80'],
    ['GET', '/chats/search/?query=caf%E9'],
    ['GET', '/chats/search/?query=x%ED%A0%80'],
    ['GET', '/chats/%FF'],
    ['GET', '/chats/1%FF/messages'],
  ])('%s %s: a percent-encoded byte that is not UTF-8 is 422, nothing stored', async (method, path) => {
    const before = await counts();
    const r = await send(method, path);
    expect(r.status).toBe(422);
    expect(typeof r.json.detail).toBe('string');
    expect(await counts()).toEqual(before);
  });

  it('well-formed percent-encoded text in a query string still works', async () => {
    const r = await send('POST', `/chats/debug/test-model-usage?model_name=${encodeURIComponent('gpt-4o')}`);
    expect(r.status).toBe(200);
    const s = await send('GET', `/chats/search/?query=${encodeURIComponent('café 😀')}&limit=5`);
    expect(s.status).toBe(200);
  });
});

describe('media types', () => {
  const mutation = 'mutation { create_chat { chat_id } }';

  it.each([
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(mutation)}`],
    [
      'multipart/form-data; boundary=b',
      `--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n${mutation}\r\n--b--\r\n`,
    ],
    ['text/plain', JSON.stringify({ query: mutation })],
    ['application/graphql', mutation],
    ['', JSON.stringify({ query: mutation })],
  ])('/graphql refuses a POST of %j with 415 before running it', async (type, body) => {
    const before = await counts();
    const r = await send('POST', '/graphql', body, type ? { 'content-type': type } : {});
    expect(r.status).toBe(415);
    expect(r.json.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await counts()).toEqual(before);
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset=UTF-8',
    'application/graphql-response+json',
  ])('/graphql accepts %j', async (type) => {
    const r = await send('POST', '/graphql', JSON.stringify({ query: '{ chats(limit: 1) { chat_id } }' }), {
      'content-type': type,
    });
    expect(r.status).toBe(200);
    expect(r.json.data.chats).toEqual(expect.any(Array));
  });

  it.each([
    ['text/plain', '{}'],
    ['application/x-www-form-urlencoded', 'user_id=1'],
    ['multipart/form-data; boundary=b', '--b--\r\n'],
    ['application/graphql-response+json', '{}'],
    ['', '{}'],
  ])('REST refuses a body of type %j with 415 {"detail"}, nothing stored', async (type, body) => {
    const before = await counts();
    const r = await send('POST', '/chats/', utf8.encode(body), type ? { 'content-type': type } : {});
    expect(r.status).toBe(415);
    expect(r.json).toEqual({ detail: 'Content-Type must be application/json' });
    expect(await counts()).toEqual(before);
  });

  it('REST accepts bodiless POSTs, and JSON with a charset', async () => {
    expect((await send('POST', '/chats/debug/test-model-usage?model_name=gpt-4o')).status).toBe(200);
    expect((await send('POST', '/chats/')).status).toBe(200);
    expect((await send('POST', '/chats/', '', { 'content-type': 'application/json' })).status).toBe(200);
    const name = unique('charset');
    const r = await send('POST', '/chats/users', JSON.stringify({ username: name, email: `${name}@example.com` }), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(r.status).toBe(200);
    expect(r.json.username).toBe(name);
  });
});

describe('cross-site writes (fetch metadata), with no CORS origins configured', () => {
  const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example.com' };

  it('refuses a cross-site POST to /graphql with 403 before running it', async () => {
    const before = await counts();
    const r = await send('POST', '/graphql', JSON.stringify({ query: 'mutation { create_chat { chat_id } }' }), {
      'content-type': 'application/json',
      ...crossSite,
    });
    expect(r.status).toBe(403);
    expect(r.json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['POST', '/chats/'],
    ['PUT', '/chats/1'],
    ['DELETE', '/chats/1'],
  ])('refuses a cross-site %s %s with 403 {"detail"}', async (method, path) => {
    const before = await counts();
    const r = await call(method, path, {}, crossSite);
    expect(r.status).toBe(403);
    expect(typeof r.json.detail).toBe('string');
    expect(await counts()).toEqual(before);
  });

  it('lets cross-site reads, and same-origin or non-browser writes, through', async () => {
    expect((await call('GET', '/chats/', undefined, crossSite)).status).toBe(200);
    expect((await call('POST', '/chats/', {}, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await call('POST', '/chats/', {}, { 'sec-fetch-site': 'none' })).status).toBe(200);
    expect((await call('POST', '/chats/', {})).status).toBe(200);
  });
});

describe('the docs’ asset lookup', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'GET /docs/%s is a JSON 404 with the security headers',
    async (name) => {
      const r = await send('GET', `/docs/${name}`);
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ detail: 'Not Found' });
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    },
  );

  it('still serves the real assets', async () => {
    const r = await send('GET', '/docs/swagger-ui.css');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/css/);
  });
});
