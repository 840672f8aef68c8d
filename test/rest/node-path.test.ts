import { connect } from 'node:net';
import { gateway } from '../support/gateway';
import { addMessage, call, callFetch, listen, newChat, newUser, type Reply } from '../support/http';

/*
 * The Node fast path (src/rest/node-path.ts) answers exactly as Yoga does: each request here is
 * sent over a socket (where the fast path takes plain REST requests) and through Yoga's fetch
 * handler, and the two answers are compared.
 */

/** What must match: status, body and headers, but not what differs per response. */
function comparable(r: Reply, { writes = false } = {}) {
  const headers: Record<string, string> = {};
  r.headers.forEach((value, name) => {
    // Framing and per-response values; the fast path always sends a Content-Length.
    if (!['date', 'connection', 'keep-alive', 'x-request-id', 'transfer-encoding', 'content-length'].includes(name)) {
      headers[name] = value;
    }
  });
  // A write answers a new row each time: compare its shape, not its id and timestamp.
  if (writes && r.json && typeof r.json === 'object') {
    const shape = Object.fromEntries(Object.entries(r.json).map(([k, v]) => [k, typeof v]));
    return { status: r.status, shape, headers };
  }
  return { status: r.status, text: r.text, headers };
}

const served = () => gateway().nodePathStats().served;

let chatId: number;
let userId: number;

beforeAll(async () => {
  const user = await newUser('fast');
  userId = user.user_id;
  chatId = (await newChat(userId)).chat_id;
  await addMessage(chatId, 'a question', 'user');
  await addMessage(chatId, 'an answer', 'ai');
});

describe('the Node fast path', () => {
  const reads: [string, () => string][] = [
    ['a chat with its messages', () => `/chats/${chatId}?user_id=${userId}`],
    ['a chat of another user (404)', () => `/chats/${chatId}?user_id=${userId + 100000}`],
    ['a chat that does not exist (404)', () => '/chats/99999999'],
    ['a bad path value (422)', () => '/chats/abc'],
    ['a repeated query value (422)', () => `/chats/${chatId}?user_id=1&user_id=2`],
    ['the chat list', () => `/chats/?user_id=${userId}&limit=10`],
    ['the chat list without a trailing slash', () => `/chats?user_id=${userId}`],
    ['a page of messages', () => `/chats/${chatId}/messages?limit=1`],
    ['a JSON export (a file)', () => `/chats/${chatId}/export`],
    ['a Markdown export (a file)', () => `/chats/${chatId}/export?format=markdown`],
    ['the usage summary', () => '/usage/summary?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
  ];

  it.each(reads)('answers as Yoga does: %s', async (_name, path) => {
    const before = served();
    const fast = await call('GET', path());
    expect(served()).toBe(before + 1);
    expect(comparable(fast)).toEqual(comparable(await callFetch('GET', path())));
  });

  it('answers HEAD as Yoga does: the headers of the GET, no body', async () => {
    const path = `/chats/${chatId}`;
    const fast = await call('HEAD', path);
    expect(fast.text).toBe('');
    expect(fast.headers.get('content-length')).toBe((await call('GET', path)).headers.get('content-length'));
    // Through fetch, Yoga's HEAD answer still holds the body (Node's server drops it on the wire).
    expect(comparable(fast).headers).toEqual(comparable(await callFetch('HEAD', path)).headers);
  });

  it.each([
    ['a message', () => `/chats/${chatId}/messages`, { content: 'hello', sender: 'user' }],
    ['a chat', () => '/chats/', { user_id: userId, title: 'fast' }],
  ])('writes as Yoga does: %s', async (_name, path, body) => {
    const before = served();
    const fast = await call('POST', path(), body);
    expect(fast.status).toBe(200);
    expect(served()).toBe(before + 1);
    expect(comparable(fast, { writes: true })).toEqual(
      comparable(await callFetch('POST', path(), body), { writes: true }),
    );
  });

  it.each([
    ['malformed JSON (422)', '{"content": '],
    ['a JSON array (422)', '[]'],
    ['a wrong type (422)', JSON.stringify({ content: 123, sender: 'user' })],
    ['a missing field (422)', JSON.stringify({ sender: 'user' })],
    ['a bad sender (422)', JSON.stringify({ content: 'x', sender: 'robot' })],
  ])('refuses bad input as Yoga does: %s', async (_name, body) => {
    const path = `/chats/${chatId}/messages`;
    const before = (await call('GET', `/chats/${chatId}`)).json.messages.length;
    const fast = await call('POST', path, body);
    expect(fast.status).toBe(422);
    expect(comparable(fast)).toEqual(comparable(await callFetch('POST', path, body)));
    expect((await call('GET', `/chats/${chatId}`)).json.messages.length).toBe(before);
  });

  it('refuses a non-JSON body (415) and an oversized one (413, closing the connection) as Yoga does', async () => {
    const path = `/chats/${chatId}/messages`;
    const text = { 'content-type': 'text/plain' };
    const fast = await call('POST', path, undefined, text);
    expect(fast.status).toBe(415);
    expect(comparable(fast)).toEqual(
      comparable(await callFetch('POST', path, undefined, { ...text, 'transfer-encoding': 'chunked' })),
    );
    const huge = JSON.stringify({ content: 'x'.repeat(gateway().services.config.maxBodyBytes), sender: 'user' });
    const tooLarge = await call('POST', path, huge);
    expect(tooLarge.status).toBe(413);
    expect(comparable(tooLarge)).toEqual(comparable(await callFetch('POST', path, huge)));
  });

  it('echoes a sane X-Request-Id and replaces an insane one', async () => {
    const given = await call('GET', `/chats/${chatId}`, undefined, { 'x-request-id': 'trace-123' });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const replaced = await call('GET', `/chats/${chatId}`, undefined, { 'x-request-id': 'no spaces allowed' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('leaves to Yoga what it does not serve: browsers (Origin, Sec-Fetch-Site), unmapped paths and methods, GraphQL', async () => {
    const before = served();
    expect((await call('GET', `/chats/${chatId}`, undefined, { origin: 'https://app.example' })).status).toBe(200);
    expect((await call('GET', `/chats/${chatId}`, undefined, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await call('GET', '/nothing-here')).status).toBe(404);
    expect((await call('PATCH', `/chats/${chatId}`, {})).status).toBe(405);
    expect((await call('POST', '/graphql', { query: '{ __typename }' })).status).toBe(200);
    expect((await call('GET', '/health')).status).toBe(200);
    expect(served()).toBe(before);
  });
});

/** The status line of a raw HTTP/1.1 request, exactly as written (no URL normalisation on the way). */
async function rawStatus(base: string, head: string, body = ''): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // Written without half-closing: the server answers, then closes (`connection: close`).
    const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\nconnection: close\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(Number(text.split(' ')[1])));
    socket.on('error', reject);
  });
}

/** How many POSTs of a message were answered 400, from the request duration histogram. */
async function answered400(): Promise<number> {
  const text = await gateway().services.metrics.render();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.includes('http_request_duration_seconds_count{') &&
        l.includes('route="/chats/:chat_id/messages"') &&
        l.includes('method="POST"') &&
        l.includes('status="400"'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

async function waitFor(condition: () => Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the Node fast path, on requests as clients may write them', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen();
  });
  afterAll(() => server.close());

  it('reads a path with a backslash as Yoga does, and leaves it to Yoga', async () => {
    const before = served();
    // URL parsing turns `/\x/chats/1` into host x and path /chats/1 when it is read on its own.
    expect(await rawStatus(server.base, `GET /\\evil.example/chats/${chatId} HTTP/1.1\r\nhost: localhost`)).toBe(404);
    expect(served()).toBe(before);
  });

  it('reads repeated headers as Node (and Yoga) do: the first Content-Type counts', async () => {
    const body = JSON.stringify({ content: 'twice typed', sender: 'user' });
    const head = [
      `POST /chats/${chatId}/messages HTTP/1.1`,
      'host: localhost',
      'content-type: application/json',
      'content-type: text/plain',
      `content-length: ${Buffer.byteLength(body)}`,
    ].join('\r\n');
    const before = served();
    expect(await rawStatus(server.base, head, body)).toBe(200);
    expect(served()).toBe(before + 1);
  });

  it('a body cut off by the client writes nothing, and the next requests are served', async () => {
    const { hostname, port } = new URL(server.base);
    const messages = async () => (await call('GET', `/chats/${chatId}`)).json.messages.length;
    const before = await messages();
    const cut400 = await answered400();
    const taken = served();
    const body = JSON.stringify({ content: 'never finished', sender: 'user' });
    const head = [
      `POST /chats/${chatId}/messages HTTP/1.1`,
      'host: localhost',
      'content-type: application/json',
      `content-length: ${Buffer.byteLength(body)}`,
    ].join('\r\n');
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`${head}\r\n\r\n${body.slice(0, 10)}`);
        // Gone once the server has taken the request, before the rest of its body.
        const wait = setInterval(() => {
          if (served() > taken) {
            clearInterval(wait);
            socket.destroy();
            resolve();
          }
        }, 5);
      });
      socket.on('error', reject);
    });
    // The fast path took it, read what came, gave up on the rest (400, logged and counted even
    // though nobody is left to read it) and added nothing.
    await waitFor(async () => (await answered400()) === cut400 + 1);
    expect(await messages()).toBe(before);
    const whole = await call('POST', `/chats/${chatId}/messages`, { content: 'finished', sender: 'user' });
    expect(whole.status).toBe(200);
    expect(await messages()).toBe(before + 1);
  });
});

describe('once the gateway is closed', () => {
  it('takes nothing: Yoga answers every request 503', async () => {
    await gateway().close();
    const before = served();
    const r = await call('GET', `/chats/${chatId}`);
    expect(r.status).toBe(503);
    expect(typeof r.json.detail).toBe('string');
    expect(served()).toBe(before);
  });
});
