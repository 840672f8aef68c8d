import { GraphQLError } from 'graphql';
import { createAdapterSql } from '../../src/db/adapter-sql';
import { isDatabaseUnavailable } from '../../src/db/errors';
import { Prisma } from '../../src/generated/prisma/client';
import { usePostgres } from '../support/databases';
import { db, gateway } from '../support/gateway';
import { addMessage, call, gql, newChat, newUser } from '../support/http';

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

  it('give an INSERT … RETURNING’s row as the client does: a false boolean stays false', async () => {
    const chat = await newChat();
    const insert = (content: string) => Prisma.sql`
      INSERT INTO "Message" (chat_id, content, sender, is_complete, "timestamp")
      VALUES (${chat.chat_id}, ${content}, 'ai', ${false}, CURRENT_TIMESTAMP)
      RETURNING message_id, chat_id, content, sender, "timestamp", is_complete, parent_id`;
    const [direct] = await gateway().services.adapterSql.rows<Record<string, unknown>>(insert('direct'));
    const [client] = await db().$queryRaw<Record<string, unknown>[]>(insert('client'));
    expect(direct).toMatchObject({ chat_id: chat.chat_id, content: 'direct', is_complete: false, parent_id: null });
    const { message_id: a, content: _a, ...directRest } = direct as Record<string, unknown>;
    const { message_id: b, content: _b, ...clientRest } = client as Record<string, unknown>;
    expect(typeof a).toBe(typeof b);
    expect(directRest).toEqual({ ...clientRest, timestamp: directRest.timestamp });
    expect(directRest.timestamp).toBeInstanceOf(Date);
    expect(clientRest.timestamp).toBeInstanceOf(Date);
  });

  it('answer a streamed answer’s start as incomplete (is_complete false through the adapter)', async () => {
    const chat = await newChat();
    const r = await gql(
      'mutation ($c: Int!) { add_message(chat_id: $c, content: "", sender: ai, streaming: true) { is_complete content } }',
      { c: chat.chat_id },
    );
    expect(r.json.data.add_message).toEqual({ is_complete: false, content: '' });
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

  it('a connection the pool could not open (which the adapter passes on unconverted) is a 503', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const adapter = { queryRaw: jest.fn().mockRejectedValue(refused), dispose: jest.fn() };
    const factory = { provider: 'postgres', adapterName: 'test', connect: async () => adapter };
    const { sql, watch } = createAdapterSql('postgresql', jest.fn(), jest.fn());
    await (watch(factory as never) as unknown as typeof factory).connect();
    const failure = await sql.rows(Prisma.sql`SELECT 1`).catch((error: unknown) => error);
    expect(adapter.queryRaw).toHaveBeenCalled();
    expect(isDatabaseUnavailable(failure)).toBe(true);
  });

  it('a GraphQL error whose text names a driver’s error is not (a bad argument stays a 4xx)', async () => {
    expect(
      isDatabaseUnavailable(new GraphQLError('Int cannot represent non-integer value: "database is locked"')),
    ).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    const r = await gql('query ($id: Int!) { chat(chat_id: $id) { title } }', {
      id: 'database is locked ECONNREFUSED',
    });
    expect(r.json.errors[0].message).toMatch(/cannot represent/);
    expect(r.json.errors[0].extensions?.code).not.toBe('SERVICE_UNAVAILABLE');
  });

  it('a constraint the statement broke is not', () => {
    const cause = { kind: 'ForeignKeyConstraintViolation', originalCode: 'SQLITE_CONSTRAINT_FOREIGNKEY' };
    const error = Object.assign(new Error('driver adapter error'), { name: 'DriverAdapterError', cause });
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
