import { randomUUID } from 'node:crypto';
import { type Gateway, http, startGateway } from '../support/gateway-process';
import { subscribe } from '../support/sse';

// Needs Redis: TEST_REDIS_URL (global-setup starts one where redis-server is installed).
const redis = process.env.TEST_REDIS_URL;
if (!redis && !process.env.CI) console.warn('events-redis.test.ts skipped: no TEST_REDIS_URL');

(redis || process.env.CI ? describe : describe.skip)('live updates across instances through Redis', () => {
  let a: Gateway;
  let b: Gateway;

  beforeAll(async () => {
    const env = { REDIS_URL: redis as string, REDIS_PREFIX: `test-${randomUUID()}:` };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
  });

  afterAll(async () => {
    for (const g of [a, b]) g?.process.kill('SIGTERM');
    await Promise.all([a?.exited, b?.exited]);
  });

  it('a subscriber on one instance sees a message written on the other', async () => {
    const chat = (await http(a.url, 'POST', '/chats/', {})).json;
    const sub = await subscribe(a.url, 'subscription($c: Int!) { message_added(chat_id: $c) { content } }', {
      c: chat.chat_id,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const written = await http(b.url, 'POST', `/chats/${chat.chat_id}/messages`, {
        content: 'from B',
        sender: 'user',
      });
      expect(written.status).toBe(200);
      expect(await sub.next()).toEqual({ data: { message_added: { content: 'from B' } } });
    } finally {
      sub.close();
    }
  });
});
