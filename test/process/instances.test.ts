import { type Gateway, http, startGateway } from '../support/gateway-process';

// Two gateway processes on one database: nothing one instance needs lives in the other's memory.
describe('two gateway instances on one database', () => {
  let a: Gateway;
  let b: Gateway;

  beforeAll(async () => {
    [a, b] = await Promise.all([startGateway(), startGateway()]);
  });

  afterAll(async () => {
    for (const g of [a, b]) g?.process.kill('SIGTERM');
    await Promise.all([a?.exited, b?.exited]);
  });

  it('serve one consistent data set, whichever instance a request lands on', async () => {
    const email = `multi-${Date.now()}@example.com`;
    const userA = await http(a.url, 'POST', '/chats/users', { username: 'first', email });
    const userB = await http(b.url, 'POST', '/chats/users', { username: 'second', email: email.toUpperCase() });
    expect(userB.json).toEqual(userA.json);
    const userId = userA.json.user_id;

    const chat = (await http(b.url, 'POST', '/chats/', { user_id: userId })).json;
    const instances = [a, b];
    for (let i = 0; i < 10; i++) {
      const target = instances[i % 2] as Gateway;
      const r = await http(target.url, 'POST', `/chats/${chat.chat_id}/messages?user_id=${userId}`, {
        content: `message ${i}`,
        sender: i % 2 ? 'ai' : 'user',
      });
      expect(r.status).toBe(200);
    }
    for (const target of instances) {
      const r = await http(target.url, 'GET', `/chats/${chat.chat_id}?user_id=${userId}`);
      expect(r.json.messages.map((m: { content: string }) => m.content)).toEqual(
        Array.from({ length: 10 }, (_, i) => `message ${i}`),
      );
    }
    await http(a.url, 'PUT', `/chats/${chat.chat_id}`, { title: 'renamed on A' });
    expect((await http(b.url, 'GET', `/chats/${chat.chat_id}`)).json.title).toBe('renamed on A');
    expect((await http(b.url, 'DELETE', `/chats/${chat.chat_id}?user_id=${userId}`)).status).toBe(200);
    expect((await http(a.url, 'GET', `/chats/${chat.chat_id}`)).status).toBe(404);
  });

  it('both report ready, and health', async () => {
    for (const g of [a, b]) {
      expect(await http(g.url, 'GET', '/ready')).toEqual({ status: 200, json: { status: 'ready' } });
      expect(await http(g.url, 'GET', '/health')).toEqual({ status: 200, json: { status: 'ok' } });
    }
  });
});
