import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { parse } from 'pg-connection-string';

/*
 * Workarounds for @prisma/adapter-pg 6.19 when the Prisma CLI (migrate deploy / diff) drives it.
 * The server itself does not need them; only prisma.config.ts uses this module (via adapters.ts).
 *
 * 1. The schema engine reads catalog columns of type `name` (OID 19) and `"char"` (OID 18), which
 *    the adapter cannot map ("Column type 'name' could not be deserialized", prisma/orm#27403).
 *    pg already returns them as strings, so the client below reports them as `text`.
 * 2. The shadow database pool is built as `{ ...config, database }`, and pg lets a
 *    `connectionString` win over `database`, so the "shadow" would be the main database. We pass
 *    host, port, user and password as separate fields instead.
 * 3. The adapter drops the shadow database before closing the shadow pool, which PostgreSQL
 *    refuses while connections are open. We close the pool first, then drop.
 */

const TEXT_OID = 25;
const CATALOG_TEXT_OIDS = new Set([18, 19]);

function relabel(res: pg.QueryResult | undefined) {
  for (const field of res?.fields ?? []) {
    if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  }
  return res;
}

class CatalogFriendlyClient extends pg.Client {
  // pg.Pool calls this with a callback; direct callers get a promise. Relabel the fields either way.
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads cannot be forwarded with their types.
  override query(...args: any[]): any {
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (error: Error | null, res: pg.QueryResult) => last(error, relabel(res));
    }
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const result = (super.query as any)(...args);
    return result && typeof result.then === 'function' ? result.then(relabel) : result;
  }
}

function poolConfig(url: string, database?: string): pg.PoolConfig {
  // pg's own parser keeps every option of the URL (host=/socket, sslmode=require, ...) as fields.
  const { database: named, ...options } = parse(url);
  return {
    ...(options as pg.PoolConfig),
    database: database ?? named ?? undefined,
    max: 2,
    Client: CatalogFriendlyClient,
  };
}

export function postgresMigrationAdapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  const main = new PrismaPg(poolConfig(url));
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    connectToShadowDb: async (): Promise<SqlDriverAdapter> => {
      const admin = await main.connect();
      const database = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, '')}`;
      await admin.executeScript(`CREATE DATABASE "${database}"`);
      const shadow = await new PrismaPg(poolConfig(url, database)).connect();
      const closeShadow = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await closeShadow();
        await admin.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
        await admin.dispose();
      };
      return shadow;
    },
  };
}
