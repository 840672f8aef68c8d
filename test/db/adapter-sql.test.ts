import { createAdapterSql } from '../../src/db/adapter-sql';
import { isDatabaseUnavailable } from '../../src/db/errors';
import { Prisma } from '../../src/generated/prisma/client';
import { usePostgres } from '../support/databases';
import { db, gateway } from '../support/gateway';
import { addMessage, call, newChat, newUser } from '../support/http';

// Statements sent straight to Prisma's driver adapter (src/db/adapter-sql.ts), as adding a message
// does: the rows must be the ones the client's $queryRaw gives for the same statement, and the
// statement must be seen like the client's (metrics, spans, debug log).

const messagesOf = (chatId: number) => Prisma.sql`
  SELECT message_id, chat_id, content, sender, "timestamp", is_complete, parent_id
  FROM "Message" WHERE chat_id = ${chatId} ORDER BY message_id`;

describe('statements on the client’s adapter', () => {
  it('give the rows the client’s $queryRaw gives: numbers, text, booleans, times and nulls alike', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    await addMessage(chat.chat_id, 'first "quoted" \\ text');
    await addMessage(chat.chat_id, 'second, with ✓ and 😀', 'ai');
    const direct = await gateway().services.adapterSql.rows(messagesOf(chat.chat_id));
    const client = await db().$queryRaw(messagesOf(chat.chat_id));
    expect(direct).toHaveLength(2);
    expect(direct).toEqual(client);
    expect(direct[0]).toMatchObject({ chat_id: chat.chat_id, parent_id: null, sender: 'user' });
  });

  it('write what the route answers, read back the same through the client', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    const r = await call('POST', `/chats/${chat.chat_id}/messages?user_id=${u.user_id}`, {
      content: 'through the adapter',
      sender: 'user',
    });
    expect(r.status).toBe(200);
    const stored = await db().message.findUniqueOrThrow({ where: { message_id: r.json.message_id } });
    expect(r.json).toEqual({
      message_id: stored.message_id,
      chat_id: chat.chat_id,
      content: 'through the adapter',
      sender: 'user',
      timestamp: stored.timestamp.toISOString(),
    });
  });

  it('are reported like the client’s statements (the SQL metric counts them)', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    const inserts = async () => {
      const text = await (await gateway().yoga.fetch('http://localhost/metrics')).text();
      const statement = usePostgres ? 'WITH' : 'INSERT';
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`chat_gateway_db_query_duration_seconds_count{statement="${statement}"`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = await inserts();
    await addMessage(chat.chat_id, 'counted');
    expect(await inserts()).toBe(before + 1);
  });

  it('go through the client until it has connected (there is no adapter before)', async () => {
    const throughClient = jest.fn(async () => [{ through: 'client' }]);
    const observe = jest.fn();
    const { sql } = createAdapterSql(usePostgres ? 'postgresql' : 'sqlite', throughClient, observe);
    const statement = Prisma.sql`SELECT ${1} AS one`;
    expect(await sql.rows(statement)).toEqual([{ through: 'client' }]);
    expect(throughClient).toHaveBeenCalledWith(statement);
    expect(observe).not.toHaveBeenCalled();
  });
});

describe('an unreachable database, as the adapter reports it', () => {
  it.each([
    ['SQLite busy', { kind: 'SocketTimeout', originalCode: 'SQLITE_BUSY' }],
    ['a lost PostgreSQL connection', { kind: 'postgres', originalCode: '08006' }],
    ['a PostgreSQL failover', { kind: 'postgres', originalCode: '57P01' }],
  ])('%s is a 503, not a 500', (_what, cause) => {
    const error = Object.assign(new Error('driver adapter error'), { name: 'DriverAdapterError', cause });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('a connection the pool could not open (passed on unconverted) is a 503', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('a constraint the statement broke is not', () => {
    const cause = { kind: 'ForeignKeyConstraintViolation', originalCode: 'SQLITE_CONSTRAINT_FOREIGNKEY' };
    const error = Object.assign(new Error('driver adapter error'), { name: 'DriverAdapterError', cause });
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
