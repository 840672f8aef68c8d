import { planCacheStats } from '../../src/db/patches/plan-cache';
import { usePostgres } from '../support/databases';
import { configureGateway, db } from '../support/gateway';
import { addMessage, call, newChat, newUser } from '../support/http';

// The chat reads here go through the Prisma client, not straight to SQL (src/rest/direct.ts).
configureGateway({ REST_DIRECT_READS: 'false' });

// Cached plans are shared between calls that differ only in their filter values: each call must
// still see its own values, and a value that changes the SQL (null) must not reuse a plan.

async function userWithChat(title: string, messages: string[]) {
  const user = await newUser();
  const { chat_id } = await newChat(user.user_id);
  const chat = await db().chat.update({ where: { chat_id }, data: { title } });
  for (const content of messages) await addMessage(chat.chat_id, content);
  return { user, chat };
}

describe('query plan cache', () => {
  it('serves chat reads of different chats from one plan, each with its own data', async () => {
    const a = await userWithChat('chat A', ['a1', 'a2']);
    const b = await userWithChat('chat B', ['b1']);
    await call('GET', `/chats/${a.chat.chat_id}?user_id=${a.user.user_id}`);
    const hits = planCacheStats.hits;

    const readA = await call('GET', `/chats/${a.chat.chat_id}?user_id=${a.user.user_id}`);
    const readB = await call('GET', `/chats/${b.chat.chat_id}?user_id=${b.user.user_id}`);
    expect(planCacheStats.hits).toBeGreaterThanOrEqual(hits + 2);
    expect(readA.json).toMatchObject({ chat_id: a.chat.chat_id, title: 'chat A' });
    expect(readA.json.messages.map((m: { content: string }) => m.content)).toEqual(['a1', 'a2']);
    expect(readB.json).toMatchObject({ chat_id: b.chat.chat_id, title: 'chat B' });
    expect(readB.json.messages.map((m: { content: string }) => m.content)).toEqual(['b1']);
  });

  it('keeps access control: the same shape with another user_id is not found', async () => {
    const a = await userWithChat('mine', ['x']);
    const b = await userWithChat('theirs', ['y']);
    expect((await call('GET', `/chats/${a.chat.chat_id}?user_id=${a.user.user_id}`)).status).toBe(200);
    const other = await call('GET', `/chats/${a.chat.chat_id}?user_id=${b.user.user_id}`);
    expect(other.status).toBe(404);
    expect(other.json.detail).toMatch(/not found/i);
  });

  it('binds values at every depth: comparisons, OR, relation filters, and null', async () => {
    const a = await userWithChat('deep A', ['1', '2', '3']);
    const b = await userWithChat('deep B', ['4']);
    const ids = async (where: object) =>
      (await db().message.findMany({ where, orderBy: { message_id: 'asc' } })).map((m) => m.content);

    expect(await ids({ chat: { user_id: a.user.user_id } })).toEqual(['1', '2', '3']);
    expect(await ids({ chat: { is: { user_id: b.user.user_id } } })).toEqual(['4']);
    const first = await db().message.findFirstOrThrow({
      where: { chat_id: a.chat.chat_id },
      orderBy: { message_id: 'asc' },
    });
    expect(await ids({ chat_id: a.chat.chat_id, message_id: { gt: first.message_id } })).toEqual(['2', '3']);
    expect(await ids({ chat_id: a.chat.chat_id, message_id: { gt: first.message_id + 1 } })).toEqual(['3']);
    expect(await ids({ OR: [{ chat_id: b.chat.chat_id }, { content: '2', chat_id: a.chat.chat_id }] })).toEqual([
      '2',
      '4',
    ]);
    expect(await ids({ OR: [{ chat_id: a.chat.chat_id }, { content: '4', chat_id: b.chat.chat_id }] })).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);

    const orphan = await db().chat.create({ data: { title: 'no owner' } });
    const owned = await db().chat.findMany({ where: { user_id: a.user.user_id } });
    const ownerless = await db().chat.findMany({ where: { user_id: null, chat_id: orphan.chat_id } });
    expect(owned.map((c) => c.chat_id)).toEqual([a.chat.chat_id]);
    expect(ownerless.map((c) => c.chat_id)).toEqual([orphan.chat_id]);
  });

  it('binds the values a write stores: text, booleans, dates and conditional updates', async () => {
    const { user, chat } = await userWithChat('writes', []);
    const first = await addMessage(chat.chat_id, 'first text');
    const second = await addMessage(chat.chat_id, 'second text', 'ai');
    expect(first).toMatchObject({ content: 'first text', sender: 'user' });
    expect(second).toMatchObject({ content: 'second text', sender: 'ai' });

    const early = new Date('2020-01-02T03:04:05.006Z');
    const late = new Date('2030-06-07T08:09:10.011Z');
    const moveTo = (when: Date) =>
      db().chat.updateMany({
        where: { chat_id: chat.chat_id, OR: [{ last_message_at: null }, { last_message_at: { lt: when } }] },
        data: { last_message_at: when, title: `at ${when.toISOString()}` },
      });
    expect((await moveTo(late)).count).toBe(1);
    expect((await moveTo(early)).count).toBe(0); // only forward
    const read = await call('GET', `/chats/${chat.chat_id}?user_id=${user.user_id}`);
    expect(read.json.title).toBe(`at ${late.toISOString()}`);
    expect(read.json.messages.map((m: { content: string }) => m.content)).toEqual(['first text', 'second text']);
    const stored = await db().chat.findUniqueOrThrow({ where: { chat_id: chat.chat_id } });
    expect(stored.last_message_at?.toISOString()).toBe(late.toISOString());

    const streamed = await db().message.create({
      data: { chat_id: chat.chat_id, content: '', sender: 'ai', is_complete: false },
    });
    const done = await db().message.create({
      data: { chat_id: chat.chat_id, content: 'done', sender: 'ai', is_complete: true },
    });
    expect([streamed.is_complete, done.is_complete]).toEqual([false, true]);
  });

  it('leaves to the compiler what it would convert: fractions on Int columns, integer division', async () => {
    const { chat } = await userWithChat('fractions', []);
    // The compiler truncates a fraction given for an Int; bound as it is, it would match nothing.
    for (let i = 0; i < 2; i++) {
      const found = await db().chat.findMany({ where: { chat_id: chat.chat_id + 0.5 } });
      expect(found.map((c) => c.chat_id)).toEqual([chat.chat_id]);
    }
    // Int arguments bind as integers, so SQLite divides as integers and stores an INTEGER.
    const usage = await db().modelUsage.create({
      data: { model_name: 'm', provider: 'p', prompt_tokens: 27, completion_tokens: 0, total_tokens: 27, cost: 0 },
    });
    for (const expected of [13, 6]) {
      await db().modelUsage.update({ where: { usage_id: usage.usage_id }, data: { prompt_tokens: { divide: 2 } } });
      const avg = await db().modelUsage.aggregate({
        where: { usage_id: usage.usage_id },
        _avg: { prompt_tokens: true },
      });
      expect(avg._avg.prompt_tokens).toBe(expected);
    }
  });

  it('leaves dates the compiler refuses to the compiler', async () => {
    // Years past 9999 are refused when the query is compiled; bound as placeholders they would run.
    const far = new Date('+010000-01-01T00:00:00.000Z');
    for (let i = 0; i < 2; i++) {
      await expect(db().chat.findMany({ where: { created_at: { lt: far } } })).rejects.toThrow();
    }
  });

  (usePostgres ? it : it.skip)('leaves case-insensitive comparisons to the compiler (PostgreSQL)', async () => {
    const { chat } = await userWithChat('MiXeD Case', []);
    // `mode` exists only in the PostgreSQL client's types; the SQLite one type-checks this file.
    const where = (op: 'equals' | 'not', title: string) =>
      ({ chat_id: chat.chat_id, title: { [op]: title, mode: 'insensitive' } }) as never;
    for (const title of ['mixed case', 'MIXED CASE']) {
      const equal = await db().chat.findMany({ where: where('equals', title) });
      expect(equal.map((c) => c.chat_id)).toEqual([chat.chat_id]);
      expect(await db().chat.findMany({ where: where('not', title) })).toEqual([]);
    }
  });

  it('passes errors through with the caller’s values', async () => {
    await expect(db().chat.findUniqueOrThrow({ where: { chat_id: 2_000_000_000 } })).rejects.toMatchObject({
      code: 'P2025',
    });
  });
});
