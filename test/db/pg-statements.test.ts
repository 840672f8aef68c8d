import pg from 'pg';
import { adapterFactory } from '../../src/db/adapters';
import { namingClient, resultFollowsTable, StatementNames } from '../../src/db/pg-statements';
import { usePostgres } from '../support/databases';
import { configureGateway, db, gateway, testConfig } from '../support/gateway';
import { addMessage, call, gql, newChat, newUser } from '../support/http';

// One connection, so that the statements the gateway prepared are all listed on it.
configureGateway({ DATABASE_POOL_SIZE: '1' });

// Named prepared statements on PostgreSQL (src/db/pg-statements.ts): each SQL text is parsed and
// planned once per connection. These run on the PostgreSQL suite only.

describe('resultFollowsTable', () => {
  it('is true for a * among the statement’s own columns, not for one inside a subquery or a literal', () => {
    expect(resultFollowsTable('SELECT * FROM "Budget" WHERE "budget_id" = ANY($1)')).toBe(true);
    expect(resultFollowsTable('SELECT "t".* FROM "Chat" AS "t"')).toBe(true);
    expect(resultFollowsTable('INSERT INTO "Chat" ("title") VALUES ($1) RETURNING *')).toBe(true);
    // Prisma's lateral join for a chat with its messages: the outer SELECT lists its columns.
    expect(
      resultFollowsTable(
        'SELECT "t0"."chat_id", "m"."data" FROM "Chat" AS "t0" LEFT JOIN LATERAL (SELECT "t1".* FROM "Message" AS "t1") AS "m" ON true',
      ),
    ).toBe(false);
    expect(resultFollowsTable('SELECT COUNT(*) FROM "Chat"')).toBe(false);
    expect(resultFollowsTable('(SELECT * FROM "a") UNION ALL (SELECT * FROM "b")')).toBe(true);
    expect(resultFollowsTable('SELECT "title" FROM "Chat" WHERE "title" = \'*(\' AND "x" = \'it\'\'s\'')).toBe(false);
    expect(resultFollowsTable('SELECT "a*b" FROM "t"')).toBe(false);
  });
});

describe('StatementNames', () => {
  const CHAT = 'SELECT "chat_id" FROM "Chat" WHERE "chat_id" = $1';

  it('names a text at its second use, the same name every time after', () => {
    const names = new StatementNames();
    expect(names.nameOf(CHAT)).toBeUndefined();
    const name = names.nameOf(CHAT);
    expect(name).toMatch(/^cg_\d+$/);
    expect(names.nameOf(CHAT)).toBe(name);
    expect(names.nameOf('SELECT COUNT(*) FROM "Chat" WHERE "user_id" = $1')).toBeUndefined();
    expect(names.nameOf('SELECT COUNT(*) FROM "Chat" WHERE "user_id" = $1')).not.toBe(name);
    expect(names.stats).toEqual({ named: 3, unnamed: 2 });
  });

  it('never names a SELECT *, nor more than its maximum', () => {
    const names = new StatementNames(1);
    for (let i = 0; i < 3; i++) expect(names.nameOf('SELECT * FROM "Budget" WHERE "budget_id" = $1')).toBeUndefined();
    names.nameOf(CHAT);
    expect(names.nameOf(CHAT)).toBeDefined();
    names.nameOf('SELECT 2 WHERE $1');
    expect(names.nameOf('SELECT 2 WHERE $1')).toBeUndefined();
  });

  it('stops naming a text whose result type changed under it (by SQLSTATE, in any language), and only that one', () => {
    const names = new StatementNames();
    names.nameOf(CHAT);
    const name = names.nameOf(CHAT);
    names.noteFailure(CHAT, Object.assign(new Error('syntax error'), { code: '42601' }));
    expect(names.nameOf(CHAT)).toBe(name);
    names.noteFailure(
      CHAT,
      Object.assign(new Error('le plan en cache ne doit pas modifier le type en résultat'), {
        code: '0A000',
        routine: 'RevalidateCachedQuery',
      }),
    );
    expect(names.nameOf(CHAT)).toBeUndefined();
    expect(names.nameOf(CHAT)).toBeUndefined();
    names.nameOf('SELECT 3 WHERE $1');
    expect(names.nameOf('SELECT 3 WHERE $1')).toBeDefined();
  });

  it('names nothing more once a pooler lost a prepared statement or mixed them up', () => {
    for (const code of ['26000', '42P05']) {
      const names = new StatementNames();
      names.nameOf(CHAT);
      names.nameOf(CHAT);
      names.noteFailure(CHAT, Object.assign(new Error('prepared statement "cg_1" does not exist'), { code }));
      expect(names.nameOf(CHAT)).toBeUndefined();
      names.nameOf('SELECT 4 WHERE $1');
      expect(names.nameOf('SELECT 4 WHERE $1')).toBeUndefined();
    }
  });
});

(usePostgres ? describe : describe.skip)('named statements on PostgreSQL', () => {
  const database = () => {
    const config = gateway().services.config.database;
    if (config.provider !== 'postgresql') throw new Error('PostgreSQL only');
    return config;
  };
  const LIST = { text: 'SELECT statement FROM pg_prepared_statements WHERE $1::int = 1', values: [1] };

  /** A pool of one connection, as the gateway makes it, and what that connection prepared. */
  function onePool(names = new StatementNames()) {
    const pool = new pg.Pool({ connectionString: database().url, max: 1, Client: namingClient(names) });
    const prepared = async () => (await pool.query(LIST)).rows.map((r) => r.statement as string);
    return { pool, prepared };
  }

  it('the gateway’s own queries are prepared, and answer as before', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    await addMessage(chat.chat_id, 'prepared once');
    for (let i = 0; i < 3; i++) {
      const read = await call('GET', `/chats/${chat.chat_id}?user_id=${u.user_id}`);
      expect(read.status).toBe(200);
      expect(read.json.messages.map((m: { content: string }) => m.content)).toEqual(['prepared once']);
    }
    // The same read through the resolvers and Prisma (the REST route and a plain /graphql query read
    // straight from SQL; an alias is the executor's to answer, src/graphql/direct-queries.ts).
    const query = 'query ($c: Int!) { chat(chat_id: $c) { title messages { text: content } } }';
    for (let i = 0; i < 2; i++) {
      expect((await gql(query, { c: chat.chat_id })).json.data.chat.messages).toEqual([{ text: 'prepared once' }]);
    }
    await addMessage(chat.chat_id, 'and again');
    // Its second use names this query too; the gateway has one connection (DATABASE_POOL_SIZE=1).
    const list = () => db().$queryRawUnsafe<{ statement: string }[]>(LIST.text, 1);
    await list();
    const statements = (await list()).map((r) => r.statement);
    expect(statements).toContain(LIST.text);
    // The chat read, one statement with its messages in a lateral join (or as JSON, read directly),
    // and the message insert.
    expect(statements.filter((s) => /FROM "public"."Chat"[\s\S]*JOIN LATERAL/.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /json_agg[\s\S]*FROM "Chat" c/.test(s))).toHaveLength(1);
    expect(statements.some((s) => /INSERT INTO "Message"/.test(s))).toBe(true);
  });

  it('DATABASE_PREPARED_STATEMENTS=false, or pgbouncer=true in the URL, sends every query unnamed', async () => {
    expect(testConfig({ DATABASE_URL: `${database().url}?pgbouncer=true` }).database).toMatchObject({
      preparedStatements: false,
    });
    expect(testConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).database).toMatchObject({ preparedStatements: false });
    expect(testConfig({}).database).toMatchObject({ preparedStatements: true });
    const adapter = await adapterFactory({ ...database(), preparedStatements: false, poolSize: 1 }).connect();
    try {
      const pool = (adapter as unknown as { underlyingDriver(): pg.Pool }).underlyingDriver();
      for (let i = 0; i < 3; i++) expect((await pool.query(LIST)).rows).toEqual([]);
    } finally {
      await adapter.dispose();
    }
  });

  it('a column whose type changes under a prepared statement fails that query once, then answers unnamed', async () => {
    const { pool, prepared } = onePool();
    const table = `named_${process.pid}_${Date.now()}`;
    try {
      await pool.query(`CREATE TABLE ${table} (x int)`);
      await pool.query(`INSERT INTO ${table} VALUES (1)`);
      const select = { text: `SELECT x FROM ${table} WHERE x <> $1`, values: [0] };
      expect((await pool.query(select)).rows).toEqual([{ x: 1 }]);
      expect((await pool.query(select)).rows).toEqual([{ x: 1 }]);
      await prepared();
      expect(await prepared()).toContain(select.text);
      await pool.query(`ALTER TABLE ${table} ALTER COLUMN x TYPE bigint`);
      await expect(pool.query(select)).rejects.toMatchObject({ code: '0A000' });
      expect((await pool.query(select)).rows).toEqual([{ x: '1' }]);
      expect((await pool.query(select)).rows).toEqual([{ x: '1' }]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    }
  });

  it('a statement lost on the server (as behind a pooler) fails once, then everything goes unnamed', async () => {
    const names = new StatementNames();
    const { pool, prepared } = onePool(names);
    try {
      await prepared();
      expect(await prepared()).toEqual([LIST.text]);
      await pool.query('DEALLOCATE ALL');
      await expect(pool.query(LIST)).rejects.toMatchObject({ code: '26000' });
      expect(await prepared()).toEqual([]);
      expect(await prepared()).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('a named statement that fails to parse is prepared again once it can be', async () => {
    const { pool } = onePool();
    const table = `later_${process.pid}_${Date.now()}`;
    const select = { text: `SELECT count(*)::int AS n FROM ${table} WHERE $1::int = 1`, values: [1] };
    try {
      await pool.query(`CREATE TABLE ${table} (x int)`);
      expect((await pool.query(select)).rows).toEqual([{ n: 0 }]);
      await pool.query(`DROP TABLE ${table}`);
      // Its second use, named: the parse fails.
      await expect(pool.query(select)).rejects.toThrow(/does not exist/);
      await pool.query(`CREATE TABLE ${table} (x int)`);
      expect((await pool.query(select)).rows).toEqual([{ n: 0 }]);
      expect((await pool.query(select)).rows).toEqual([{ n: 0 }]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    }
  });
});
