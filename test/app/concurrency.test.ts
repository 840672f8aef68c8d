import { db } from '../support/gateway';
import { call, newChat, newUser, unique } from '../support/http';

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

  it('messages sent at once come back in one order, their IDs’, with timestamps that agree, on every path', async () => {
    const c = await newChat((await newUser()).user_id);
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call('POST', `/chats/${c.chat_id}/messages`, { content: `ordered ${i}`, sender: 'user' }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(60).fill(200));
    type M = { message_id: number; timestamp: string };
    const all: M[] = (await call('GET', `/chats/${c.chat_id}`)).json.messages;
    const ids = all.map((m) => m.message_id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const times = all.map((m) => Date.parse(m.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // Pages backwards from the newest, by cursor, give the same order.
    const paged: number[] = [];
    let before: string | null = null;
    do {
      const page: { json: { items: M[]; prev_cursor: string | null } } = await call(
        'GET',
        `/chats/${c.chat_id}/messages?limit=7${before ? `&before=${before}` : ''}`,
      );
      paged.unshift(...page.json.items.map((m) => m.message_id));
      before = page.json.prev_cursor;
    } while (before);
    expect(paged).toEqual(ids);

    const exported = JSON.parse((await call('GET', `/chats/${c.chat_id}/export?format=json`)).text);
    expect(exported.messages.map((m: M) => m.message_id)).toEqual(ids);
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
    const orphans = await db().$queryRawUnsafe<{ n: number | bigint }[]>(
      'SELECT COUNT(*) AS n FROM "Message" m LEFT JOIN "Chat" c ON c.chat_id = m.chat_id WHERE c.chat_id IS NULL',
    );
    expect(Number(orphans[0]?.n)).toBe(0);
  });

  it('cleanup racing first messages: every acknowledged message survives', async () => {
    const u = await newUser();
    // Rounds, because the race is a matter of timing; each round lines up ten first messages
    // against one cleanup.
    for (let round = 0; round < 8; round++) {
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
    }
  });
});
