import type { Auth, Identity } from '../auth/identify';
import type { StreamSlots } from '../auth/stream-guard';
import type { Config } from '../config';
import type { AdapterSql } from '../db/adapter-sql';
import type { Db } from '../db/client';
import type { SqlReader } from '../db/direct';
import { type Logger, noteRequestOfErrors, requestOf } from '../http/logging';
import type { Metrics } from '../http/metrics';
import type { AlertOutbox } from '../modules/budgets/outbox';
import type { PriceTable } from '../modules/usage/pricing';
import type { EventBus } from './pubsub';

/**
 * What one gateway is made of, built from its config by createGateway (src/app.ts) and closed
 * with it. Resolvers reach them through the context, never through imports, so two gateways
 * with different configurations can run side by side in one process.
 */
export type Services = Readonly<{
  config: Config;
  db: Db;
  /**
   * Read-only SQL without Prisma, for the reads served directly (src/rest/direct.ts,
   * src/graphql/direct-queries.ts); null when REST_DIRECT_READS and GRAPHQL_DIRECT_READS are both
   * off. Resolvers use `db`.
   */
  sql: SqlReader | null;
  /**
   * Statements on the client's own connection without the client's request pipeline, for the
   * hottest writes (db/adapter-sql.ts). Everything else uses `db`.
   */
  adapterSql: AdapterSql;
  pubsub: EventBus;
  auth: Auth;
  prices: PriceTable;
  streams: StreamSlots;
  logger: Logger;
  metrics: Metrics;
  /** Budget alerts' delivery: `nudge()` after a write that raised some. */
  alerts: Pick<AlertOutbox, 'nudge'>;
}>;

/**
 * Who is calling, and the gateway's services. Built once per request, for GraphQL and REST alike;
 * Yoga adds the fetch Request being served (a context made outside a request has none).
 */
export type Context = Readonly<Identity & Services & { request?: Request }>;

/** Yoga's context factory: the caller, as established once per request (the rate limiter may have asked first). */
export function contextFactory(services: Services) {
  return async (initial: { request: Request }): Promise<Context> => {
    try {
      return { ...services, ...(await services.auth.identify(initial.request, initial)) };
    } catch (error) {
      // Yoga masks and logs it with nothing but the error: the error names its request.
      noteRequestOfErrors([error], requestOf(initial.request));
      throw error;
    }
  };
}
