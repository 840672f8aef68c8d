import type { Db } from '../../db/client';
import type { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { AppError } from '../../graphql/errors';
import { type Period, periodAt } from './periods';

/*
 * Spend against budgets (issue: budgets and spend alerts). Money is counted in whole
 * micro-dollars (ModelUsage.cost_micros, BigInt): sums are exact on both databases, and dollars
 * appear only at the edge, for JSON.
 */

export type BudgetRow = Prisma.BudgetGetPayload<object>;
type Tx = Prisma.TransactionClient | Db;

/** Whose spend a model call counts towards: its user's, its API key's, and everyone's. */
export type Spender = { userId: number | null; apiKeyId: number | null };

export const usd = (micros: bigint): number => Number(micros) / 1_000_000;

/** The percentages of a budget that raise alerts (stored as a JSON array). */
export const percentsOf = (budget: Pick<BudgetRow, 'alert_percents'>): number[] =>
  JSON.parse(budget.alert_percents) as number[];

/** The budgets a spender's calls count towards, in ID order (the order their rows are locked in). */
export function budgetsFor(db: Tx, spender: Spender): Promise<BudgetRow[]> {
  const scopes: Prisma.BudgetWhereInput[] = [{ scope: 'global' }];
  if (spender.userId != null) scopes.push({ scope: 'user', user_id: spender.userId });
  if (spender.apiKeyId != null) scopes.push({ scope: 'api_key', api_key_id: spender.apiKeyId });
  return db.budget.findMany({ where: { OR: scopes }, orderBy: { budget_id: 'asc' } });
}

/** The usage rows a budget counts: its subject's, in [start, end). */
function counted(budget: BudgetRow, start: Date, end: Date): Prisma.ModelUsageWhereInput {
  const subject =
    budget.scope === 'user'
      ? { user_id: budget.user_id }
      : budget.scope === 'api_key'
        ? { api_key_id: budget.api_key_id }
        : {};
  return { ...subject, timestamp: { gte: start, lt: end } };
}

export type BudgetState = { budget: BudgetRow; spent: bigint; start: Date; end: Date };

/** A budget's spend in the period containing `at`. */
export async function stateOf(db: Tx, budget: BudgetRow, at: Date): Promise<BudgetState> {
  const { start, end } = periodAt(budget.period as Period, at, budget.time_zone);
  const sum = await db.modelUsage.aggregate({ where: counted(budget, start, end), _sum: { cost_micros: true } });
  return { budget, spent: sum._sum.cost_micros ?? 0n, start, end };
}

export type Allowance = {
  allowed: boolean;
  spent_usd: number | null;
  limit_usd: number | null;
  remaining_usd: number | null;
  resets_at: Date | null;
  budget_id: number | null;
};

const UNLIMITED: Allowance = {
  allowed: true,
  spent_usd: null,
  limit_usd: null,
  remaining_usd: null,
  resets_at: null,
  budget_id: null,
};

/**
 * What a spender may still spend, against the tightest budget that applies: among exhausted
 * budgets (spent at or over the limit) the one that resets last, which is what keeps the spender
 * waiting; otherwise the one with the least left. No budget: allowed, and every figure null.
 */
export async function allowanceFor(db: Tx, spender: Spender, at = new Date()): Promise<Allowance> {
  const budgets = await budgetsFor(db, spender);
  if (budgets.length === 0) return UNLIMITED;
  const states = await Promise.all(budgets.map((b) => stateOf(db, b, at)));
  const remaining = (s: BudgetState) => s.budget.limit_micros - s.spent;
  const exhausted = states.filter((s) => remaining(s) <= 0n);
  const tightest =
    exhausted.length > 0
      ? exhausted.reduce((a, b) => (b.end > a.end ? b : a))
      : states.reduce((a, b) => (remaining(b) < remaining(a) ? b : a));
  const left = remaining(tightest);
  return {
    allowed: exhausted.length === 0,
    spent_usd: usd(tightest.spent),
    limit_usd: usd(tightest.budget.limit_micros),
    remaining_usd: usd(left > 0n ? left : 0n),
    resets_at: tightest.end,
    budget_id: tightest.budget.budget_id,
  };
}

/** The refusal of work that would spend over a hard limit: 429, until the budget resets. */
export function budgetExceeded(allowance: Allowance): AppError {
  const resets = allowance.resets_at ?? new Date();
  const retryAfter = Math.max(1, Math.ceil((resets.getTime() - Date.now()) / 1000));
  return new AppError(
    'BUDGET_EXCEEDED',
    `Budget ${allowance.budget_id} is spent ($${allowance.spent_usd} of $${allowance.limit_usd}); it resets at ${resets.toISOString()}`,
    { extensions: { budget_id: allowance.budget_id, resets_at: resets.toISOString(), retry_after: retryAfter } },
  );
}

/** Refuses (BUDGET_EXCEEDED) when a spender has no allowance left. */
export async function assertAllowance(ctx: Pick<Context, 'db'>, spender: Spender): Promise<void> {
  const allowance = await allowanceFor(ctx.db, spender);
  if (!allowance.allowed) throw budgetExceeded(allowance);
}

export type NewAlert = Prisma.BudgetAlertGetPayload<object>;

/**
 * In the transaction that recorded a model call (at `at`): the alerts of every budget whose
 * spend now reaches one of its percentages for the first time this period. The budgets' rows
 * are locked first, in ID order (PostgreSQL; SQLite's write already holds its database's lock),
 * so concurrent writers take turns here: each sees the others' committed rows and alerts, and
 * the unique key (budget, period, threshold) backs this up. A budget deleted meanwhile is skipped.
 */
export async function alertsAfterWrite(
  tx: Prisma.TransactionClient,
  budgets: readonly BudgetRow[],
  at: Date,
  postgres: boolean,
): Promise<NewAlert[]> {
  let live = budgets;
  if (postgres) {
    const ids = budgets.map((b) => b.budget_id);
    const locked: { budget_id: number }[] = await tx.$queryRawUnsafe(
      `SELECT "budget_id" FROM "Budget" WHERE "budget_id" = ANY($1::int[]) ORDER BY "budget_id" FOR UPDATE`,
      ids,
    );
    const present = new Set(locked.map((r) => Number(r.budget_id)));
    live = budgets.filter((b) => present.has(b.budget_id));
  }
  const created: NewAlert[] = [];
  for (const budget of live) {
    const state = await stateOf(tx, budget, at);
    const reached = percentsOf(budget).filter((p) => state.spent * 100n >= BigInt(p) * budget.limit_micros);
    if (reached.length === 0) continue;
    const existing = await tx.budgetAlert.findMany({
      where: { budget_id: budget.budget_id, period_start: state.start },
      select: { threshold: true },
    });
    const had = new Set(existing.map((a) => a.threshold));
    for (const threshold of reached) {
      if (had.has(threshold)) continue;
      created.push(
        await tx.budgetAlert.create({
          data: {
            budget_id: budget.budget_id,
            period_start: state.start,
            threshold,
            spent_micros: state.spent,
            limit_micros: budget.limit_micros,
          },
        }),
      );
    }
  }
  return created;
}
