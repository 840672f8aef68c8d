import pg from 'pg';
import { adapterFactory } from '../../src/db/adapters';
import { namingClient, resultFollowsTable, StatementNames } from '../../src/db/pg-statements';
import { usePostgres } from '../support/databases';
import { configureGateway, db, gateway } from '../support/gateway';
import { addMessage, call, newChat, newUser } from '../support/http';

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
    expect(resultFollowsTable('SELECT "title" FROM "Chat" WHERE "title" = \'*(\' AND "x" = \'it\'\'s\'')).toBe(false);
    expect(resultFollowsTable('SELECT "a*b" FROM "t"')).toBe(false);
  });
});

describe('StatementNames', () => {
  it('gives one name per text, none to SELECT *, and none past its maximum', () => {
    const names = new StatementNames(3);
    const a = names.nameOf('SELECT "chat_id" FROM "Chat" WHERE "chat_id" = $1');
    expect(a).toMatch(/^cg_\d+$/);
    expect(names.nameOf('SELECT "chat_id" FROM "Chat" WHERE "chat_id" = $1')).toBe(a);
    expect(names.nameOf('SELECT * FROM "Budget"')).toBeUndefined();
    expect(names.nameOf('SELECT COUNT(*) FROM "Chat"')).toMatch(/^cg_\d+$/);
    expect(names.nameOf('SELECT 4')).toBeUndefined();
    expect(names.stats).toEqual({ named: 3, unnamed: 2 });
  });

  it('stops naming a text whose result type changed under it, and only that one', () => {
    const names = new StatementNames();
    const name = names.nameOf('SELECT x FROM t');
    names.noteFailure('SELECT x FROM t', new Error('syntax error at or near "x"'));
    expect(names.nameOf('SELECT x FROM t')).toBe(name);
    names.noteFailure('SELECT x FROM t', new Error('cached plan must not change result type'));
    expect(names.nameOf('SELECT x FROM t')).toBeUndefined();
  });
});

(usePostgres ? describe : describe.skip)('named statements on PostgreSQL', () => {
  const url = () => {
    const database = gateway().services.config.database;
    if (database.provider !== 'postgresql') throw new Error('PostgreSQL only');
    return database;
  };

  /** The statements a connection prepared, read on that same connection. */
  const prepared = async (query: (sql: string) => Promise<{ statement: string }[]>) =>
    (await query('SELECT name, statement FROM pg_prepared_statements')).map((r) => r.statement);

  it('the gateway’s own queries are prepared, and answer as before', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    await addMessage(chat.chat_id, 'prepared once');
    for (let i = 0; i < 3; i++) {
      const read = await call('GET', `/chats/${chat.chat_id}?user_id=${u.user_id}`);
      expect(read.status).toBe(200);
      expect(read.json.messages.map((m: { content: string }) => m.content)).toEqual(['prepared once']);
    }
    // This query is itself sent named, so the connection it runs on lists it; and the chat read,
    // one statement with its messages in a lateral join, was prepared on it too.
    const sql = 'SELECT name, statement FROM pg_prepared_statements';
    const statements = await prepared((s) => db().$queryRawUnsafe(s));
    expect(statements).toContain(sql);
    expect(statements.filter((s) => /FROM "public"."Chat"[\s\S]*JOIN LATERAL/.test(s))).toHaveLength(1);
    expect(statements.some((s) => /INSERT INTO "Message"/.test(s))).toBe(true);
  });

  it('DATABASE_PREPARED_STATEMENTS=false sends every query unnamed', async () => {
    const adapter = await adapterFactory({ ...url(), preparedStatements: false, poolSize: 1 }).connect();
    try {
      const run = async (sql: string) => {
        const result = await adapter.queryRaw({ sql, args: [], argTypes: [] });
        return result.rows.map((row) => ({ statement: row[1] as string }));
      };
      await run('SELECT 1');
      expect(await prepared(run)).toEqual([]);
    } finally {
      await adapter.dispose();
    }
  });

  it('a column whose type changes under a prepared statement fails that query once, then answers unnamed', async () => {
    const names = new StatementNames();
    const pool = new pg.Pool({ connectionString: url().url, max: 1, Client: namingClient(names) });
    const table = `named_${process.pid}_${Date.now()}`;
    try {
      await pool.query(`CREATE TABLE ${table} (x int)`);
      await pool.query(`INSERT INTO ${table} VALUES (1)`);
      const select = { text: `SELECT x FROM ${table} WHERE x IS NOT NULL`, values: [] };
      expect((await pool.query(select)).rows).toEqual([{ x: 1 }]);
      const { rows } = await pool.query({ text: 'SELECT statement FROM pg_prepared_statements', values: [] });
      expect(rows.map((r) => r.statement)).toContain(select.text);
      await pool.query(`ALTER TABLE ${table} ALTER COLUMN x TYPE text`);
      await expect(pool.query(select)).rejects.toThrow(/cached plan must not change result type/);
      expect((await pool.query(select)).rows).toEqual([{ x: '1' }]);
      expect((await pool.query(select)).rows).toEqual([{ x: '1' }]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    }
  });

  it('a statement that fails to parse is not kept as prepared: the same text answers once it can', async () => {
    const names = new StatementNames();
    const pool = new pg.Pool({ connectionString: url().url, max: 1, Client: namingClient(names) });
    const table = `later_${process.pid}_${Date.now()}`;
    const select = { text: `SELECT count(*)::int AS n FROM ${table}`, values: [] };
    try {
      await expect(pool.query(select)).rejects.toThrow(/does not exist/);
      await pool.query(`CREATE TABLE ${table} (x int)`);
      expect((await pool.query(select)).rows).toEqual([{ n: 0 }]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    }
  });
});
