import { adapterFactory } from '../../src/db/adapters';
import type { Db } from '../../src/db/client';
import { planCacheStats } from '../../src/db/patches/plan-cache';
import { selectsStar, statementCacheStats } from '../../src/db/patches/sqlite-statements';
import { usePostgres } from '../support/databases';
import { db, gateway } from '../support/gateway';

// The patches in src/db/patches/ must not change a single result. The same representative queries
// (the app's own shapes) run through the app's patched client and through an unpatched one on the
// same database; then the internals each patch relies on are checked one by one, so a Prisma or
// better-sqlite3 upgrade that moves them fails here by name rather than somewhere in a request.

/**
 * An unpatched client. The runtime keeps the first query compiler it loads per provider in a
 * module-level cache, and the compiler's wasm glue is a module too: a second client in the same
 * module registry would share both (patched or not). This one gets its own registry, and connects
 * inside it so the compiler it loads lazily comes from there too.
 */
async function unpatchedClient(): Promise<Db> {
  let client: Db | undefined;
  await jest.isolateModulesAsync(async () => {
    const { PrismaClient } = usePostgres
      ? require('../../src/generated/prisma-postgresql/client')
      : require('../../src/generated/prisma/client');
    const { adapterFactory: factory } = require('../../src/db/adapters');
    client = new PrismaClient({ adapter: factory(gateway().services.config.database) }) as Db;
    await client.$connect();
  });
  return client as Db;
}

const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 9, minute, 0, 7));

/** The app's query shapes, on rows of their own; returns everything they answered. */
async function scenario(db: Db, tag: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const user = await db.user.create({ data: { username: `u ${tag}`, email: `${tag}@example.com`, created_at: at(0) } });
  const other = await db.user.create({
    data: { username: `o ${tag}`, email: `o-${tag}@example.com`, created_at: at(0) },
  });
  const chat = await db.chat.create({ data: { user_id: user.user_id, title: 'New Chat', created_at: at(1) } });
  out.push(user, chat);
  for (const [i, content] of ['hello', 'a "quoted" answer', '', 'ünïcödé ✓'].entries()) {
    const timestamp = at(2 + i);
    const sender = i % 2 === 0 ? 'user' : 'ai';
    out.push(
      await db.message.create({ data: { chat_id: chat.chat_id, content, sender, timestamp, is_complete: i !== 2 } }),
    );
    // Only forward, as add_message does.
    const moved = await db.chat.updateMany({
      where: { chat_id: chat.chat_id, OR: [{ last_message_at: null }, { last_message_at: { lt: timestamp } }] },
      data: { last_message_at: timestamp },
    });
    out.push(moved.count);
  }
  const backwards = await db.chat.updateMany({
    where: { chat_id: chat.chat_id, OR: [{ last_message_at: null }, { last_message_at: { lt: at(3) } }] },
    data: { last_message_at: at(3) },
  });
  out.push(backwards.count);
  const owned = { chat_id: chat.chat_id, user_id: user.user_id };
  // A chat with its messages, and the same read by someone else.
  const read = { include: { messages: { orderBy: [{ timestamp: 'asc' as const }, { message_id: 'asc' as const }] } } };
  out.push(await db.chat.findFirst({ where: owned, ...read }));
  out.push(await db.chat.findFirst({ where: { chat_id: chat.chat_id, user_id: other.user_id }, ...read }));
  out.push(await db.chat.count({ where: owned }));
  out.push(await db.chat.findMany({ where: { user_id: user.user_id }, orderBy: { created_at: 'desc' }, take: 10 }));
  const messages = await db.message.findMany({ where: { chat_id: chat.chat_id }, orderBy: { message_id: 'asc' } });
  const [first, second] = messages;
  out.push(
    await db.message.findMany({
      where: { chat_id: chat.chat_id, AND: [{ message_id: { gt: first?.message_id } }] },
      orderBy: { message_id: 'desc' },
      take: 2,
    }),
  );
  out.push(await db.message.findMany({ where: { chat: { user_id: user.user_id }, sender: 'ai' } }));
  // A streamed answer completed, and an edit.
  out.push(
    await db.message.update({
      where: { message_id: second?.message_id },
      data: { content: 'edited', is_complete: true },
    }),
  );
  out.push(
    await db.message.findUnique({
      where: { message_id: second?.message_id },
      select: { is_complete: true, content: true },
    }),
  );
  // Usage rows, their aggregate and a grouping.
  for (const [model, tokens, cost] of [
    ['gpt-4o', 100, 0.5],
    ['gpt-4o', 27, 0.25],
    ['o3', 10, 1.5],
  ] as const) {
    out.push(
      await db.modelUsage.create({
        data: {
          user_id: user.user_id,
          chat_id: chat.chat_id,
          model_name: model,
          provider: 'openai',
          prompt_tokens: tokens,
          completion_tokens: 3,
          total_tokens: tokens + 3,
          cost,
          timestamp: at(10),
        },
      }),
    );
  }
  const usage = { user_id: user.user_id, timestamp: { gte: at(9), lt: at(11) } };
  out.push(
    await db.modelUsage.aggregate({
      where: usage,
      _count: { _all: true },
      _sum: { prompt_tokens: true, cost: true },
      _avg: { prompt_tokens: true },
      _max: { timestamp: true },
    }),
  );
  out.push(
    await db.modelUsage.groupBy({
      by: ['model_name'],
      where: usage,
      _sum: { total_tokens: true, cost: true },
      orderBy: { model_name: 'asc' },
    }),
  );
  out.push(
    await db.modelUsage.updateMany({
      where: { user_id: user.user_id, model_name: 'o3' },
      data: { prompt_tokens: { divide: 3 } },
    }),
  );
  out.push(
    await db.modelUsage.findMany({
      where: { user_id: user.user_id },
      orderBy: { usage_id: 'asc' },
      select: { prompt_tokens: true },
    }),
  );
  // A transaction, and deletes.
  out.push(
    await db.$transaction(async (tx) => {
      const deleted = await tx.message.deleteMany({ where: { chat_id: chat.chat_id, content: '' } });
      return [deleted.count, await tx.message.count({ where: { chat_id: chat.chat_id } })];
    }),
  );
  out.push(await db.chat.deleteMany({ where: owned }));
  out.push(await db.chat.findUnique({ where: { chat_id: chat.chat_id } }));
  return out;
}

/** IDs replaced by their order of appearance, so two runs on different rows compare equal. */
function normalised(value: unknown): unknown {
  const seen = new Map<string, number[]>();
  const walk = (v: unknown, key?: string): unknown => {
    if (key?.endsWith('_id') && typeof v === 'number') {
      const ids = seen.get(key) ?? [];
      seen.set(key, ids);
      if (!ids.includes(v)) ids.push(v);
      return `${key}#${ids.indexOf(v)}`;
    }
    if (key === 'email' && typeof v === 'string') return v.replace(/^.*@/, '@');
    if (key === 'username' && typeof v === 'string') return v.slice(0, 2);
    if (Array.isArray(v)) return v.map((item) => walk(item));
    if (v instanceof Date || v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, k)]));
  };
  return walk(value);
}

describe('Prisma patches', () => {
  let plain: Db;
  beforeAll(async () => {
    plain = await unpatchedClient();
  });
  afterAll(() => plain.$disconnect());

  it('answers the app’s queries exactly as the unpatched client does', async () => {
    const before = { ...planCacheStats, ...statementCacheStats };
    const unpatched = await scenario(plain, 'plain');
    // The unpatched client really is: nothing went through the patches.
    expect({ ...planCacheStats, ...statementCacheStats }).toEqual(before);

    await scenario(db(), 'warm-up'); // the first run compiles and prepares; the second reuses
    const hits = planCacheStats.hits;
    const reused = statementCacheStats.reused;
    const patched = await scenario(db(), 'patched');
    expect(planCacheStats.hits - hits).toBeGreaterThan(20);
    if (!usePostgres) expect(statementCacheStats.reused - reused).toBeGreaterThan(20);

    expect(normalised(patched)).toEqual(normalised(unpatched));
  });

  it('reads what the other client wrote, the same way', async () => {
    const user = await plain.user.create({ data: { username: 'cross', email: 'cross@example.com' } });
    const chat = await db().chat.create({ data: { user_id: user.user_id, title: 'both' } });
    for (const content of ['one', 'two']) {
      await plain.message.create({ data: { chat_id: chat.chat_id, content, sender: 'user' } });
      await db().message.create({ data: { chat_id: chat.chat_id, content, sender: 'ai' } });
    }
    const read = (db: Db) =>
      db.chat.findFirst({
        where: { chat_id: chat.chat_id, user_id: user.user_id },
        include: { messages: { orderBy: { message_id: 'asc' } } },
      });
    const [a, b] = [await read(db()), await read(plain)];
    expect(a?.messages).toHaveLength(4);
    expect(a).toEqual(b);
  });
});

describe('what the plan cache relies on (@prisma/client)', () => {
  type Internals = {
    _engineConfig?: { compilerWasm?: { getRuntime?: unknown } };
    _runtimeDataModel?: { models?: Record<string, { fields: { name: string; kind: string; type: string }[] }> };
  };
  let internals: Internals;
  beforeAll(async () => {
    internals = (await unpatchedClient()) as unknown as Internals;
  });
  afterAll(() => (internals as unknown as Db).$disconnect());

  it('the client keeps the compiler loader and the data model in the fields the cache replaces', () => {
    expect(typeof internals._engineConfig?.compilerWasm?.getRuntime).toBe('function');
    const chat = internals._runtimeDataModel?.models?.Chat?.fields ?? [];
    expect(chat.find((f) => f.name === 'chat_id')).toMatchObject({ kind: 'scalar', type: 'Int' });
    expect(chat.find((f) => f.name === 'last_message_at')).toMatchObject({ kind: 'scalar', type: 'DateTime' });
    expect(chat.find((f) => f.name === 'messages')).toMatchObject({ kind: 'object', type: 'Message' });
  });

  it('the runtime offers a QueryCompiler class with compile(), and interprets `let` and `value` nodes', async () => {
    const getRuntime = internals._engineConfig?.compilerWasm?.getRuntime as () => Promise<Record<string, unknown>>;
    const runtime = await getRuntime();
    expect(typeof runtime.QueryCompiler).toBe('function');
    expect(typeof (runtime.QueryCompiler as { prototype: { compile?: unknown } }).prototype.compile).toBe('function');
    // The plan interpreter is not exported; its source must still bind a `let` node's names in a
    // scope its placeholders are read from. (Behaviour is checked above; this names the cause.)
    const source = require('node:fs').readFileSync(require.resolve('@prisma/client/runtime/client.js'), 'utf8');
    expect(source).toMatch(/case"let":\{let \w+=Object\.create\(\w+\);for\(let \w+ of \w+\.args\.bindings\)/);
    expect(source).toMatch(/case"value":return\{value:/);
    // And loads the compiler through `compilerWasm.getRuntime()`, once per provider.
    expect(source).toMatch(/loadQueryCompiler\(\w+\)\{let\{clientVersion:\w+,compilerWasm:\w+\}=\w+/);
  });
});

(usePostgres ? describe.skip : describe)('what statement reuse relies on (adapter-better-sqlite3)', () => {
  it('the adapter keeps the better-sqlite3 Database in `client` and uses only bind/reader/run/columns/raw().all', async () => {
    const adapter = await adapterFactory(gateway().services.config.database).connect();
    const db = (adapter as unknown as { client: { prepare: (sql: string) => object; constructor: { name: string } } })
      .client;
    expect(db.constructor.name).toBe('Database');
    expect(typeof db.prepare).toBe('function');

    const used = new Set<string>();
    const record = <T extends object>(target: T, prefix: string): T =>
      new Proxy(target, {
        get(t, key, receiver) {
          used.add(`${prefix}${String(key)}`);
          const value = Reflect.get(t, key, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            const result = value.apply(t, args);
            if (key === 'bind') return record(result, 'bound.');
            if (key === 'raw') return record(result, 'raw().');
            return result;
          };
        },
      });
    const prepare = db.prepare.bind(db);
    db.prepare = (sql: string) => record(prepare(sql), '');

    const none = { args: [], argTypes: [] };
    await adapter.executeScript('CREATE TEMP TABLE probe (n INTEGER)');
    await adapter.executeRaw({
      sql: 'INSERT INTO probe (n) VALUES (?)',
      args: [1],
      argTypes: [{ scalarType: 'int', arity: 'scalar' }],
    } as never);
    const read = await adapter.queryRaw({ sql: 'SELECT n FROM probe', ...none } as never);
    expect(read.rows).toEqual([['1']]); // safe integers, as Prisma reads them
    await adapter.queryRaw({ sql: 'UPDATE probe SET n = 2', ...none } as never);
    const tx = await adapter.startTransaction();
    await tx.queryRaw({ sql: 'SELECT n FROM probe', ...none } as never);
    await tx.executeRaw({ sql: 'COMMIT', ...none } as never);
    await tx.commit();
    await adapter.dispose();

    // What the patch's single-use view provides: nothing else may be used.
    const provided = new Set(['bind', 'run', 'bound.reader', 'bound.run', 'bound.columns', 'bound.raw', 'raw().all']);
    expect([...used].filter((key) => !provided.has(key))).toEqual([]);
    expect(used).toEqual(
      new Set(['bind', 'run', 'bound.reader', 'bound.run', 'bound.columns', 'bound.raw', 'raw().all']),
    );
  });
});

(usePostgres ? describe.skip : describe)('kept statements’ columns (sqlite-statements)', () => {
  it('tells `SELECT *` from `COUNT(*)`', () => {
    expect(selectsStar('SELECT * FROM probe')).toBe(true);
    expect(selectsStar('SELECT `t`.* FROM `Chat` AS `t`')).toBe(true);
    expect(selectsStar('SELECT COUNT(*) AS `_aggr_count_messages` FROM `Message`')).toBe(false);
    expect(selectsStar('SELECT `chat_id`, `title` FROM `Chat` WHERE `chat_id` = ?')).toBe(false);
  });

  it('answers a `SELECT *` with the columns a schema change added, and a kept statement with its own', async () => {
    const app = db();
    await app.$executeRawUnsafe('CREATE TABLE star_probe (n INTEGER)');
    try {
      await app.$executeRawUnsafe('INSERT INTO star_probe (n) VALUES (1)');
      const named = 'SELECT n FROM star_probe';
      expect(await app.$queryRawUnsafe('SELECT * FROM star_probe')).toEqual([{ n: 1 }]);
      expect(await app.$queryRawUnsafe(named)).toEqual([{ n: 1 }]);
      await app.$executeRawUnsafe("ALTER TABLE star_probe ADD COLUMN label TEXT DEFAULT 'x'");
      // A `SELECT *` is prepared anew each time: a kept one would answer the columns it was prepared with.
      expect(await app.$queryRawUnsafe('SELECT * FROM star_probe')).toEqual([{ n: 1, label: 'x' }]);
      expect(await app.$queryRawUnsafe(named)).toEqual([{ n: 1 }]);
    } finally {
      await app.$executeRawUnsafe('DROP TABLE star_probe');
    }
  });
});
