import type { Db } from '../../db/client';
import { isPrismaError } from '../../db/errors';
import { Prisma } from '../../generated/prisma/client';
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

/** Where a freshly recorded usage row carries its allowance (ModelUsage.allowance). */
export const FRESH_ALLOWANCE = Symbol('allowance');

export const UNLIMITED: Allowance = {
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

export type NewAlert = { alert_id: number };

/** The thresholds a spend going from `before` to `after` reaches for the first time. */
const crossed = (budget: BudgetRow, before: bigint, after: bigint) =>
  percentsOf(budget).filter(
    (p) => before * 100n < BigInt(p) * budget.limit_micros && after * 100n >= BigInt(p) * budget.limit_micros,
  );

/** The usage rows a budget counts, as SQL (for the first write of a period's running sum). */
function subjectSql(budget: BudgetRow): Prisma.Sql {
  if (budget.scope === 'user') return Prisma.sql`"user_id" = ${budget.user_id}`;
  if (budget.scope === 'api_key') return Prisma.sql`"api_key_id" = ${budget.api_key_id}`;
  return Prisma.sql`TRUE`;
}

/**
 * PostgreSQL, in the transaction that just inserted a usage row costing `cost` at `at`: adds it
 * to each budget's running spend for the period (BudgetSpend) and writes the alerts of the
 * thresholds it takes the spend past. The budgets are read again here, under FOR KEY SHARE (a
 * budget deleted meanwhile is skipped; a changed one is read as it is now); the running spend's
 * row lock, held to the commit, makes writers of one budget and period take turns for that one
 * statement, each seeing the spend its predecessor committed, so each threshold is crossed by
 * exactly one write. A period's first write starts the sum from the ledger (its own row included).
 */
export async function alertsAfterWrite(
  tx: Prisma.TransactionClient,
  budgetIds: readonly number[],
  at: Date,
  cost: bigint,
): Promise<NewAlert[]> {
  const budgets = await tx.$queryRaw<BudgetRow[]>`
    SELECT * FROM "Budget" WHERE "budget_id" = ANY(${[...budgetIds]}::int[]) ORDER BY "budget_id" FOR KEY SHARE`;
  const created: NewAlert[] = [];
  for (const raw of budgets) {
    const budget = { ...raw, limit_micros: BigInt(raw.limit_micros) };
    const { start, end } = periodAt(budget.period as Period, at, budget.time_zone);
    let rows = await tx.$queryRaw<{ spent_micros: bigint | string }[]>`
      UPDATE "BudgetSpend" SET "spent_micros" = "spent_micros" + ${cost}
      WHERE "budget_id" = ${budget.budget_id} AND "period_start" = ${start} RETURNING "spent_micros"`;
    if (rows.length === 0) {
      rows = await tx.$queryRaw`
        INSERT INTO "BudgetSpend" ("budget_id", "period_start", "spent_micros")
        SELECT ${budget.budget_id}, ${start}, COALESCE(SUM("cost_micros"), 0) FROM "ModelUsage"
          WHERE ${subjectSql(budget)} AND "timestamp" >= ${start} AND "timestamp" < ${end}
        ON CONFLICT ("budget_id", "period_start") DO UPDATE SET "spent_micros" = "BudgetSpend"."spent_micros" + ${cost}
        RETURNING "spent_micros"`;
    }
    const after = BigInt(rows[0]?.spent_micros ?? 0);
    for (const threshold of crossed(budget, after - cost, after)) {
      const inserted = await tx.$queryRaw<{ alert_id: number }[]>`
        INSERT INTO "BudgetAlert" ("budget_id", "period_start", "threshold", "spent_micros", "limit_micros", "created_at", "next_attempt_at")
        VALUES (${budget.budget_id}, ${start}, ${threshold}, ${after}, ${budget.limit_micros}, ${at}, ${at})
        ON CONFLICT ("budget_id", "period_start", "threshold") DO NOTHING RETURNING "alert_id"`;
      if (inserted[0]) created.push({ alert_id: Number(inserted[0].alert_id) });
    }
  }
  return created;
}

/**
 * SQLite, after a usage row was inserted (and committed: SQLite's single connection must not hold
 * a transaction across requests): for each budget, the period's spend summed now, and an alert
 * for every threshold it has reached that has none yet. The unique key refuses a second alert of
 * a threshold (two writers reaching it together: the second's insert fails, and is ignored).
 * The last writer to sum sees every committed row, so no crossing is missed; should the process
 * die between the two writes, the next usage write of the period raises the missing alert.
 */
export async function alertsAfterCommit(db: Db, budgets: readonly BudgetRow[], at: Date): Promise<NewAlert[]> {
  const created: NewAlert[] = [];
  for (const budget of budgets) {
    const state = await stateOf(db, budget, at);
    const reached = percentsOf(budget).filter((p) => state.spent * 100n >= BigInt(p) * budget.limit_micros);
    if (reached.length === 0) continue;
    const existing = await db.budgetAlert.findMany({
      where: { budget_id: budget.budget_id, period_start: state.start },
      select: { threshold: true },
    });
    const had = new Set(existing.map((a) => a.threshold));
    for (const threshold of reached) {
      if (had.has(threshold)) continue;
      try {
        created.push(
          await db.budgetAlert.create({
            data: {
              budget_id: budget.budget_id,
              period_start: state.start,
              threshold,
              spent_micros: state.spent,
              limit_micros: budget.limit_micros,
            },
            select: { alert_id: true },
          }),
        );
      } catch (error) {
        // P2002: another writer raised it first. P2003: the budget was deleted meanwhile.
        if (!isPrismaError(error, 'P2002') && !isPrismaError(error, 'P2003')) throw error;
      }
    }
  }
  return created;
}
