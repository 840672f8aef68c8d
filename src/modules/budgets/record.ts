import type { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { alertsAfterCommit, alertsAfterWrite, type BudgetRow, budgetsFor, type NewAlert, type Spender } from './spend';

/** Writers of one budget take turns on its running spend's row: a record must not be refused for the wait. */
const TRANSACTION = { maxWait: 10_000, timeout: 15_000 } as const;

/**
 * Records a model call (`create` inserts the row, costing `costMicros`) and raises the alerts of
 * every budget it takes past one of its percentages. On PostgreSQL the alerts are written in the
 * same transaction as the usage row (alertsAfterWrite): an alert exists if and only if its usage
 * row does, whatever happens to the process afterwards. On SQLite, whose one connection is shared
 * by every request (a transaction held open across awaits would take other requests' writes in
 * and out with it), right after it (alertsAfterCommit). Without a budget that applies, the insert
 * runs alone, as it always did. Alerts are published once committed and delivered from the
 * database (outbox.ts).
 */
export async function recordUsage<T>(
  ctx: Pick<Context, 'db' | 'config' | 'pubsub' | 'alerts'>,
  spender: Spender,
  costMicros: bigint,
  create: (tx: Prisma.TransactionClient | Context['db'], timestamp: Date) => Promise<T>,
): Promise<{ usage: T; budgets: BudgetRow[] }> {
  // The row's timestamp, set here: the alerts count the period this very row falls in.
  const timestamp = new Date();
  const budgets = await budgetsFor(ctx.db, spender);
  if (budgets.length === 0) return { usage: await create(ctx.db, timestamp), budgets };
  let usage: T;
  let alerts: NewAlert[];
  if (ctx.config.database.provider === 'postgresql') {
    const ids = budgets.map((b) => b.budget_id);
    ({ usage, alerts } = await ctx.db.$transaction(async (tx) => {
      const usage = await create(tx, timestamp);
      return { usage, alerts: await alertsAfterWrite(tx, ids, timestamp, costMicros) };
    }, TRANSACTION));
  } else {
    usage = await create(ctx.db, timestamp);
    alerts = await alertsAfterCommit(ctx.db, budgets, timestamp);
  }
  for (const alert of alerts) ctx.pubsub.publish('budget_alert', 0, { alert_id: alert.alert_id });
  if (alerts.length > 0) ctx.alerts.nudge();
  return { usage, budgets };
}
