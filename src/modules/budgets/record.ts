import type { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { alertsAfterWrite, budgetsFor, type Spender } from './spend';

/** Many writers may queue for one budget's lock; a model call's record must not be refused for it. */
const TRANSACTION = { maxWait: 10_000, timeout: 15_000 } as const;

/**
 * Records a model call (`create` inserts the row) and, in the same transaction, the alerts of
 * every budget it takes past one of its percentages: an alert exists if and only if its usage
 * row does, whatever happens to the process afterwards. Without a budget that applies, the
 * insert runs alone, as it always did. Alerts are published once committed, and delivered from
 * the database (outbox.ts).
 */
export async function recordUsage<T>(
  ctx: Pick<Context, 'db' | 'config' | 'pubsub' | 'alerts'>,
  spender: Spender,
  create: (tx: Prisma.TransactionClient | Context['db'], timestamp: Date) => Promise<T>,
): Promise<T> {
  // The row's timestamp, set here: the alerts count the period this very row falls in.
  const timestamp = new Date();
  const budgets = await budgetsFor(ctx.db, spender);
  if (budgets.length === 0) return create(ctx.db, timestamp);
  const postgres = ctx.config.database.provider === 'postgresql';
  const { usage, alerts } = await ctx.db.$transaction(async (tx) => {
    const usage = await create(tx, timestamp);
    return { usage, alerts: await alertsAfterWrite(tx, budgets, timestamp, postgres) };
  }, TRANSACTION);
  for (const alert of alerts) ctx.pubsub.publish('budget_alert', 0, { alert_id: alert.alert_id });
  if (alerts.length > 0) ctx.alerts.nudge();
  return usage;
}
