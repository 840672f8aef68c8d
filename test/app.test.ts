import { createGateway, type Gateway } from '../src/app';
import { loadConfig } from '../src/config';
import { databaseForTestFile } from './support/databases';
import { housePricesFile, JWT_SECRET } from './support/settings';

// createGateway builds everything from the config it is given: two gateways in one process, on
// two databases and with different settings, each answer by their own.

type Reply = { status: number; json: any };

async function send(gateway: Gateway, method: string, path: string, body?: unknown, headers = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await gateway.yoga.fetch(`http://localhost${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const admin = { 'x-admin-api-key': 'test-admin-key' };

describe('createGateway', () => {
  let open: Gateway;
  let locked: Gateway;

  beforeAll(async () => {
    // The test environment (setup-env.ts): this file's database, authentication off, default limits.
    open = await createGateway(loadConfig(process.env));
    locked = await createGateway(
      loadConfig({
        ...process.env,
        DATABASE_URL: databaseForTestFile(),
        AUTH_MODE: 'jwt',
        JWT_SECRET,
        MAX_MESSAGES_PER_READ: '2',
        ENABLE_DEBUG_ROUTES: 'false',
        ...housePricesFile(),
      }),
    );
  });

  afterAll(async () => {
    await Promise.all([open.close(), locked.close()]);
  });

  it('serves two differently configured gateways side by side in one process', async () => {
    // Authentication: off on one, JWTs on the other (the admin key works on both).
    expect((await send(open, 'POST', '/chats/', {})).status).toBe(200);
    expect((await send(locked, 'POST', '/chats/', {})).status).toBe(401);

    // Each its own database: the same user ID names a different user on each.
    const alice = await send(open, 'POST', '/chats/users', { username: 'alice', email: 'alice@example.com' });
    const bob = await send(locked, 'POST', '/chats/users', { username: 'bob', email: 'bob@example.com' }, admin);
    expect([alice.status, bob.status]).toEqual([200, 200]);
    const nameOf = async (gateway: Gateway, user_id: number) =>
      (await send(gateway, 'POST', '/graphql', { query: `{ user(user_id: ${user_id}) { username } }` }, admin)).json
        .data.user?.username ?? null;
    expect(await nameOf(open, alice.json.user_id)).toBe('alice');
    expect(await nameOf(locked, bob.json.user_id)).toBe('bob');
    expect(await nameOf(locked, alice.json.user_id)).not.toBe('alice');

    // MAX_MESSAGES_PER_READ: 1000 on one, 2 on the other, for the same REST route.
    for (const [gateway, user] of [
      [open, alice],
      [locked, bob],
    ] as const) {
      const chat = await send(gateway, 'POST', '/chats/', { user_id: user.json.user_id }, admin);
      for (const content of ['one', 'two', 'three']) {
        const added = await send(
          gateway,
          'POST',
          `/chats/${chat.json.chat_id}/messages`,
          { content, sender: 'user' },
          admin,
        );
        expect(added.status).toBe(200);
      }
      const read = await send(gateway, 'GET', `/chats/${chat.json.chat_id}`, undefined, admin);
      const contents = read.json.messages.map((m: { content: string }) => m.content);
      expect(contents).toEqual(gateway === open ? ['one', 'two', 'three'] : ['two', 'three']);
    }

    // The price table: bundled on one, PRICES_FILE (a house model only) on the other.
    const usage = { model_name: 'house-model', prompt_tokens: 1_000_000, completion_tokens: 0 };
    expect((await send(open, 'POST', '/usage', usage, admin)).json).toMatchObject({ price_known: false, cost: 0 });
    expect((await send(locked, 'POST', '/usage', usage, admin)).json).toMatchObject({ price_known: true, cost: 1 });

    // Debug routes: on by default, turned off on the other.
    expect((await send(open, 'POST', '/chats/debug/test-model-usage', {}, admin)).status).toBe(200);
    expect((await send(locked, 'POST', '/chats/debug/test-model-usage', {}, admin)).status).toBe(404);
  });

  it('closes one gateway without touching the other', async () => {
    const other = await createGateway(loadConfig({ ...process.env, DATABASE_URL: databaseForTestFile() }));
    expect((await send(other, 'GET', '/ready')).status).toBe(200);
    await other.close();
    await other.close(); // closing twice is harmless
    expect((await send(open, 'GET', '/ready')).status).toBe(200);
    expect((await send(open, 'POST', '/chats/', {})).status).toBe(200);
  });

  it('after close() refuses every request with 503, ends open subscriptions, and reaches no closed service', async () => {
    const other = await createGateway(loadConfig({ ...process.env, DATABASE_URL: databaseForTestFile() }));
    const chat = await send(other, 'POST', '/chats/', {});
    const stream = await other.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `subscription { message_added(chat_id: ${chat.json.chat_id}) { message_id } }` }),
    });
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    // Open, and stays open...
    expect(await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve(false), 300))])).toBe(false);
    // ...until the gateway closes.
    await other.close();
    expect(await ended).toBe(true);
    const rest = await send(other, 'GET', `/chats/${chat.json.chat_id}`);
    expect(rest).toEqual({ status: 503, json: { detail: 'The service is shutting down' } });
    const graphql = await send(other, 'POST', '/graphql', { query: '{ chats { chat_id } }' });
    expect(graphql.status).toBe(503);
    expect(graphql.json.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('refuses a second gateway whose PRISMA_PATCHES differs for the process-wide plan cache', async () => {
    await expect(createGateway(loadConfig({ ...process.env, PRISMA_PATCHES: 'off' }))).rejects.toThrow(
      /plan cache is already on .* process-wide/,
    );
    // A setting that leaves the plan cache as it is, is fine.
    const statementsOff = await createGateway(loadConfig({ ...process.env, PRISMA_PATCHES: 'plan-cache' }));
    expect((await send(statementsOff, 'GET', '/ready')).status).toBe(200);
    await statementsOff.close();
  });

  it('refuses, before opening anything, a configuration the routes cannot serve', async () => {
    await expect(createGateway(loadConfig({ ...process.env, GRAPHQL_MAX_COMPLEXITY: '1000' }))).rejects.toThrow(
      /GRAPHQL_MAX_COMPLEXITY/,
    );
  });
});
