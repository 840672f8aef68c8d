import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { COMPRESS_MIN_BYTES, chooseEncoding } from '../../src/http/compression';
import { gateway } from '../support/gateway';
import { addMessage, call, callFetch, listen, newChat, type Reply } from '../support/http';

/** The body as the client reads it once it undoes the Content-Encoding. */
function decoded(reply: Reply): string {
  const encoding = reply.headers.get('content-encoding');
  if (encoding === 'br') return brotliDecompressSync(reply.body).toString('utf8');
  if (encoding === 'gzip') return gunzipSync(reply.body).toString('utf8');
  expect(encoding).toBeNull();
  return reply.body.toString('utf8');
}

describe('Accept-Encoding negotiation', () => {
  it.each([
    [null, null],
    ['', null],
    ['identity', null],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['gzip;q=0', null],
    ['*', 'br'],
    ['*;q=0.1, br;q=0', 'gzip'],
    ['deflate', null],
    ['GZIP', 'gzip'],
  ])('%p → %p', (header, expected) => {
    expect(chooseEncoding(header)).toBe(expected);
  });
});

describe('compressed answers', () => {
  let chatId: number;
  beforeAll(async () => {
    chatId = (await newChat()).chat_id;
    // A chat read well over the threshold.
    for (let i = 0; i < 5; i++) await addMessage(chatId, `message ${i} ${'lorem ipsum '.repeat(40)}`);
  });

  it.each(['br', 'gzip'])(
    'a large JSON answer from Yoga is sent with %s, and decodes to the same JSON',
    async (encoding) => {
      const plain = await callFetch('GET', '/openapi.json');
      const packed = await callFetch('GET', '/openapi.json', undefined, { 'accept-encoding': encoding });
      expect(packed.status).toBe(200);
      expect(packed.headers.get('content-encoding')).toBe(encoding);
      expect(Number(packed.headers.get('content-length'))).toBe(packed.body.byteLength);
      expect(packed.body.byteLength).toBeLessThan(plain.body.byteLength / 3);
      expect(decoded(packed)).toBe(plain.text);
      expect(plain.headers.get('vary')).toMatch(/accept-encoding/i);
      expect(packed.headers.get('vary')).toMatch(/accept-encoding/i);
    },
  );

  it('a REST answer is compressed the same on the Node fast path and through Yoga', async () => {
    const before = gateway().nodePathStats().served;
    const plain = await call('GET', `/chats/${chatId}`);
    expect(plain.text.length).toBeGreaterThan(COMPRESS_MIN_BYTES);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const fast = await call('GET', `/chats/${chatId}`, undefined, { 'accept-encoding': 'gzip, br' });
    expect(gateway().nodePathStats().served).toBe(before + 2);
    const viaYoga = await callFetch('GET', `/chats/${chatId}`, undefined, { 'accept-encoding': 'gzip, br' });
    for (const reply of [fast, viaYoga]) {
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-encoding')).toBe('br');
      expect(reply.headers.get('vary')).toMatch(/accept-encoding/i);
      expect(Number(reply.headers.get('content-length'))).toBe(reply.body.byteLength);
      expect(JSON.parse(decoded(reply))).toEqual(plain.json);
    }
  });

  it('an error answer keeps its status and {"detail"} when compressed', async () => {
    const long = 'x'.repeat(2000);
    const r = await call('GET', `/chats/${long}`, undefined, { 'accept-encoding': 'gzip' });
    expect(r.status).toBe(422);
    expect(JSON.parse(decoded(r))).toHaveProperty('detail');
  });

  it('a GraphQL answer over the threshold is compressed', async () => {
    const query = `{ chat(chat_id: ${chatId}) { chat_id messages { content } } }`;
    const r = await call('POST', '/graphql', { query }, { 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(JSON.parse(decoded(r)).data.chat.chat_id).toBe(chatId);
  });

  it('answers under 1 KB are sent as they are', async () => {
    const r = await call('GET', '/health', undefined, { 'accept-encoding': 'br, gzip' });
    expect(r.status).toBe(200);
    expect(r.body.byteLength).toBeLessThan(COMPRESS_MIN_BYTES);
    expect(r.headers.get('content-encoding')).toBeNull();
  });

  it('images are not compressed', async () => {
    const r = await call('GET', '/favicon.ico', undefined, { 'accept-encoding': 'br, gzip' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-encoding')).toBeNull();
  });

  it('a live-update stream is never compressed, so each event arrives when it happens', async () => {
    const server = await listen();
    const controller = new AbortController();
    try {
      const res = await fetch(`${server.base}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'accept-encoding': 'br, gzip' },
        body: JSON.stringify({ query: `subscription { message_added(chat_id: ${chatId}) { message_id } }` }),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      // Yoga marks event streams `Content-Encoding: none`, so that proxies do not compress them either.
      expect([null, 'none']).toContain(res.headers.get('content-encoding'));
    } finally {
      controller.abort();
      await server.close();
    }
  });
});
