import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gateway, testGateway } from './gateway';

export type Reply = { status: number; json: any; text: string; headers: Headers };

/** A request through the real HTTP handler (Yoga's fetch), no socket needed. */
export async function call(
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
  return readReply(await (await testGateway()).yoga.fetch(`http://localhost${path}`, init));
}

/** A response's status, headers and text, and its JSON when the text is JSON. */
export async function readReply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
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
  const server = createServer(gateway().yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
