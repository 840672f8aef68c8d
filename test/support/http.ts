import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gateway, testGateway } from './gateway';
import { expectDocumented } from './openapi-check';

/** An answer: `text` and `json` read the body as UTF-8; `body` is its bytes as sent (compressed, say). */
export type Reply = { status: number; json: any; text: string; headers: Headers; body: Buffer };

/**
 * A request to this file's gateway over a real socket, through the Node request listener that
 * production serves (src/index.ts): plain REST requests take the Node fast path, the rest Yoga.
 * The path is normalised as `fetch` would (percent-encoding what a URL may not hold as it is).
 */
export async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const { port, agent } = await socketServer();
  const reply = await send(port, agent, method, path, body, headers);
  // Every REST answer must be what the OpenAPI document says it can be.
  if (!reply.headers.get('content-encoding')) await expectDocumented(gateway(), method, path, reply);
  return reply;
}

function send(
  port: number,
  agent: Agent,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Reply> {
  const target = new URL(path, 'http://localhost');
  const sent: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (body !== undefined) {
    sent['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    // Node's client frames a DELETE body only with an explicit length (as fetch sends it).
    sent['content-length'] ??= String(Buffer.byteLength(payload));
  }
  return sendRaw(port, { method, path: `${target.pathname}${target.search}`, headers: sent, body: payload, agent });
}

/**
 * One request over a socket to `port` on 127.0.0.1, its target, headers and body sent exactly as
 * given; the answer as it came (raw header names, the body's bytes).
 */
export function sendRaw(
  port: number,
  {
    method,
    path,
    headers,
    body,
    agent,
  }: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer; agent?: Agent },
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const received = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          received.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
        }
        resolve(replyOf(res.statusCode ?? 0, Buffer.concat(chunks), received));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request through Yoga's fetch handler, no socket: the path every request takes when the Node fast path does not. */
export async function callFetch(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const target = await testGateway();
  const reply = await readReply(await target.yoga.fetch(`http://localhost${path}`, init));
  if (!reply.headers.get('content-encoding')) await expectDocumented(target, method, path, reply);
  return reply;
}

let server: Promise<{ port: number; agent: Agent; close: () => Promise<void> }> | undefined;

/** This file's gateway on a socket, started on first use and closed after the file's tests. */
function socketServer() {
  server ??= testGateway().then(async (gateway) => {
    const http = createServer(gateway.listener);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const agent = new Agent({ keepAlive: true });
    return {
      port: (http.address() as AddressInfo).port,
      agent,
      close: async () => {
        agent.destroy();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      },
    };
  });
  return server;
}

afterAll(async () => {
  const started = await server?.catch(() => undefined);
  await started?.close();
});

function replyOf(status: number, body: Buffer, headers: Headers): Reply {
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status, json, text, headers, body };
}

/** A response's status, headers and text, and its JSON when the text is JSON. */
export async function readReply(res: Response): Promise<Reply> {
  return replyOf(res.status, Buffer.from(await res.arrayBuffer()), res.headers);
}

export async function gql(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
  return call('POST', '/graphql', { query, variables }, headers);
}

let seq = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;

export async function newUser(prefix = 'user') {
  const name = unique(prefix);
  const r = await call('POST', '/chats/users', { username: name, email: `${name}@example.com` });
  if (r.status !== 200) throw new Error(`create user: ${r.status} ${r.text}`);
  return r.json as { user_id: number; username: string; email: string; created_at: string };
}

export async function newChat(user_id?: number) {
  const r = await call('POST', '/chats/', user_id === undefined ? {} : { user_id });
  if (r.status !== 200) throw new Error(`create chat: ${r.status} ${r.text}`);
  return r.json as { chat_id: number; user_id: number | null; title: string; created_at: string };
}

export async function addMessage(chat_id: number, content: string, sender = 'user') {
  const r = await call('POST', `/chats/${chat_id}/messages`, { content, sender });
  if (r.status !== 200) throw new Error(`add message: ${r.status} ${r.text}`);
  return r.json as { message_id: number; chat_id: number; content: string; sender: string; timestamp: string };
}

export const isoUtc = (s: unknown) =>
  typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s));

export const keysOf = (o: unknown) => Object.keys(o as object).sort();

/**
 * The gateway of this test file on a real socket in this process (for what needs one, such as
 * subscriptions): call in beforeAll, close in afterAll.
 */
export async function listen(): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer(gateway().listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
