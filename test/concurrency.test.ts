import { prisma } from '../src/db';
import { call, newChat, newUser, unique } from './http';

// Races that PostgreSQL (a pool of connections) really runs in parallel; SQLite serialises them.
describe('concurrent requests', () => {
  it('20 first logins with one email give one user and twenty 200s', async () => {
    const email = `${unique('race')}@example.com`;
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('POST', '/chats/users', { username: `racer${i}`, email })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(replies.map((r) => r.json.user_id)).size).toBe(1);
    expect(new Set(replies.map((r) => r.json.username)).size).toBe(1);
  });

  it('50 messages sent at once to one chat are all kept, each once', async () => {
    const c = await newChat((await newUser()).user_id);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call('POST', `/chats/${c.chat_id}/messages`, { content: `parallel ${i}`, sender: 'user' }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    const stored = (await call('GET', `/chats/${c.chat_id}`)).json.messages.map((m: { content: string }) => m.content);
    expect(stored.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `parallel ${i}`).sort());
  });

  it('a delete racing add-message never leaves an orphan message, and answers 200 or 404', async () => {
    const u = await newUser();
    for (let round = 0; round < 15; round++) {
      const c = await newChat(u.user_id);
      const [added, deleted] = await Promise.all([
        call('POST', `/chats/${c.chat_id}/messages`, { content: 'racing', sender: 'user' }),
        call('DELETE', `/chats/${c.chat_id}`),
      ]);
      expect([200, 404]).toContain(added.status);
      expect(deleted.status).toBe(200);
    }
    const orphans = await prisma.$queryRawUnsafe<{ n: number | bigint }[]>(
      'SELECT COUNT(*) AS n FROM "Message" m LEFT JOIN "Chat" c ON c.chat_id = m.chat_id WHERE c.chat_id IS NULL',
    );
    expect(Number(orphans[0]?.n)).toBe(0);
  });

  it('cleanup racing first messages: every acknowledged message survives', async () => {
    const u = await newUser();
    const chats = await Promise.all(Array.from({ length: 10 }, () => newChat(u.user_id)));
    const [cleanup, ...adds] = await Promise.all([
      call('POST', '/chats/cleanup-empty', { user_id: u.user_id }),
      ...chats.map((c) => call('POST', `/chats/${c.chat_id}/messages`, { content: 'first', sender: 'user' })),
    ]);
    expect(cleanup.status).toBe(200);
    for (const [i, add] of adds.entries()) {
      expect([200, 404]).toContain(add.status);
      if (add.status === 200) {
        expect((await call('GET', `/chats/${chats[i]?.chat_id}`)).json.messages).toHaveLength(1);
      }
    }
  });
});
