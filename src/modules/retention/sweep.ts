import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client';
import { releaseLease, renewLease, takeLease } from '../../db/lease';
import type { Prisma } from '../../generated/prisma/client';
import type { Services } from '../../graphql/context';
import { publishChatChange } from '../chats/events';

/*
 * Retention (issue: organise chats): chats nobody has touched for N days are deleted, with their
 * messages; their model usage is kept (with chat_id null), as DELETE /chats/{chat_id} does.
 * Pinned chats are never deleted. N is the user's own policy (User.retention_days) or else the
 * global one (RETENTION_DAYS), which also covers anonymous chats; with neither, nothing goes.
 *
 * "Touched" is the latest of: created, a message added (last_message_at), changed through
 * update_chat (updated_at). The sweep runs every RETENTION_SWEEP_INTERVAL_SECONDS on one instance
 * at a time, through a lease in the database (src/db/lease.ts).
 */

const DAY_MS = 86_400_000;
/** Chats deleted per statement: short statements, so requests are not held up behind a sweep. */
const BATCH = 200;
const LEASE = 'retention-sweep';

/** One policy in force: chats of `scope` inactive for `days` days go. */
type Policy = { days: number; scope: Prisma.ChatWhereInput };

/** The policies in force now: one per distinct per-user setting, and the global one. */
async function policies(db: Db, globalDays: number | null): Promise<Policy[]> {
  const perUser = await db.user.groupBy({
    by: ['retention_days'],
    where: { retention_days: { not: null } },
    orderBy: { retention_days: 'asc' },
  });
  const list: Policy[] = perUser.flatMap(({ retention_days: days }) =>
    days == null ? [] : [{ days, scope: { user: { is: { retention_days: days } } } }],
  );
  if (globalDays != null) {
    list.push({ days: globalDays, scope: { OR: [{ user_id: null }, { user: { is: { retention_days: null } } }] } });
  }
  return list;
}

/**
 * Not pinned, and nothing happened to it since `cutoff`. The gateway moves `last_message_at` in
 * the statement that inserts a message, on both databases; the messages themselves are asked too,
 * because on PostgreSQL a row written into the table by other means than the gateway does not move
 * it (on SQLite a trigger does).
 */
function inactiveSince(cutoff: Date): Prisma.ChatWhereInput {
  return {
    pinned: false,
    created_at: { lt: cutoff },
    AND: [
      { OR: [{ last_message_at: null }, { last_message_at: { lt: cutoff } }] },
      { OR: [{ updated_at: null }, { updated_at: { lt: cutoff } }] },
    ],
    messages: { none: { timestamp: { gte: cutoff } } },
  };
}

const expired = (policy: Policy, now: number): Prisma.ChatWhereInput => ({
  AND: [policy.scope, inactiveSince(new Date(now - policy.days * DAY_MS))],
});

/** A sweep that found its lease taken by another instance: it stops rather than sweep alongside. */
class LeaseLost extends Error {}

const lastActivity = (c: { created_at: Date; last_message_at: Date | null; updated_at: Date | null }) =>
  new Date(Math.max(c.created_at.getTime(), c.last_message_at?.getTime() ?? 0, c.updated_at?.getTime() ?? 0));

export type RetentionCandidate = {
  chat_id: number;
  user_id: number | null;
  title: string;
  last_activity_at: Date;
  retention_days: number;
};

export type RetentionPreview = { global_days: number | null; total: number; chats: RetentionCandidate[] };

/** What a sweep started now would delete: how many, and the first `limit` of them (policy by policy, shortest first; oldest chats first within each). */
export async function previewRetention(db: Db, globalDays: number | null, limit: number): Promise<RetentionPreview> {
  const now = Date.now();
  let total = 0;
  const chats: RetentionCandidate[] = [];
  for (const policy of await policies(db, globalDays)) {
    const where = expired(policy, now);
    total += await db.chat.count({ where });
    if (chats.length >= limit) continue;
    const found = await db.chat.findMany({
      where,
      select: { chat_id: true, user_id: true, title: true, created_at: true, last_message_at: true, updated_at: true },
      orderBy: [{ created_at: 'asc' }, { chat_id: 'asc' }],
      take: limit - chats.length,
    });
    for (const c of found) {
      chats.push({
        chat_id: c.chat_id,
        user_id: c.user_id,
        title: c.title,
        last_activity_at: lastActivity(c),
        retention_days: policy.days,
      });
    }
  }
  return { global_days: globalDays, total, chats };
}

export type SweepResult = { ran: boolean; deleted: number };

type SweepServices = Pick<Services, 'db' | 'config' | 'pubsub' | 'logger' | 'metrics'>;

/** The retention sweeper of one gateway: `sweep()` runs once if this instance gets the lease. */
export function createRetentionSweeper(services: SweepServices) {
  const { db, config, logger, metrics } = services;
  // Who this gateway is to the lease; several gateways may share a process (and a database).
  const holder = `${process.pid}-${randomUUID()}`;
  const intervalMs = config.retentionSweepSeconds * 1000;
  // A sweep that outlives its lease must stop: renewing between batches keeps it ours while it runs.
  const leaseMs = Math.max(intervalMs, 60_000);
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<SweepResult> | undefined;

  /** Keeps the lease ours before each step; a sweep that lost it (it ran past its lease) stops whole. */
  async function stillOurs(): Promise<void> {
    if (!(await renewLease(db, LEASE, holder, leaseMs))) throw new LeaseLost();
  }

  async function sweepPolicy(policy: Policy, now: number): Promise<number> {
    let deleted = 0;
    while (!stopping) {
      await stillOurs();
      const where = expired(policy, now);
      const batch = await db.chat.findMany({
        where,
        select: { chat_id: true, user_id: true },
        orderBy: { chat_id: 'asc' },
        take: BATCH,
      });
      if (batch.length === 0) break;
      const ids = batch.map((c) => c.chat_id);
      // The conditions are checked again by the DELETE: a message may have arrived, or a pin,
      // since the read (on PostgreSQL, a row changed meanwhile is re-checked after its lock).
      const { count } = await db.chat.deleteMany({ where: { AND: [{ chat_id: { in: ids } }, where] } });
      const kept =
        count === ids.length
          ? new Set<number>()
          : new Set(
              (await db.chat.findMany({ where: { chat_id: { in: ids } }, select: { chat_id: true } })).map(
                (c) => c.chat_id,
              ),
            );
      const gone = batch.filter((c) => !kept.has(c.chat_id));
      if (gone.length > 0) {
        for (const c of gone) publishChatChange(services, c.user_id, c.chat_id, 'DELETED');
        metrics.add('retention_chats_deleted_total', gone.length);
        logger.info(
          { retention_days: policy.days, deleted: gone.length, chat_ids: gone.map((c) => c.chat_id) },
          'retention sweep: deleted inactive chats',
        );
      }
      deleted += gone.length;
      // Fewer than a batch: that was the last of this policy.
      if (batch.length < BATCH) break;
    }
    return deleted;
  }

  async function runSweep(): Promise<SweepResult> {
    const list = await policies(db, config.retentionDays);
    // No policy: nothing to do, and no lease row written.
    if (list.length === 0) return { ran: false, deleted: 0 };
    if (!(await takeLease(db, LEASE, holder, leaseMs, config.database.provider === 'postgresql'))) {
      return { ran: false, deleted: 0 };
    }
    const now = Date.now();
    let deleted = 0;
    try {
      for (const policy of list) deleted += await sweepPolicy(policy, now);
    } catch (error) {
      if (!(error instanceof LeaseLost)) throw error;
      logger.warn({ deleted }, 'retention sweep: its lease passed to another instance; stopping here');
      return { ran: true, deleted };
    }
    logger.info({ deleted, policies: list.map((p) => p.days) }, 'retention sweep finished');
    return { ran: true, deleted };
  }

  /** Runs a sweep now (once at a time per gateway), unless another instance holds the lease. */
  function sweep(): Promise<SweepResult> {
    running ??= runSweep().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delayMs: number) {
    timer = setTimeout(async () => {
      try {
        await sweep();
      } catch (error) {
        // A failed sweep (the database away, say) is tried again at the next interval.
        logger.error({ err: error }, 'retention sweep failed');
      }
      if (!stopping) schedule(intervalMs);
    }, delayMs);
    // The sweep never keeps a process alive on its own.
    timer.unref();
  }

  return {
    sweep,
    /** Starts the periodic sweep (not with RETENTION_SWEEP_INTERVAL_SECONDS=0). */
    start() {
      if (intervalMs === 0) return;
      // The first sweep soon after start, spread so that instances started together do not all try at once.
      schedule(Math.min(intervalMs, 60_000) * (0.5 + Math.random() / 2));
    },
    /**
     * Stops the schedule, waits for a sweep in progress to end its batch, and gives the lease back,
     * so that during a rolling restart another instance sweeps at its next interval.
     */
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
      await releaseLease(db, LEASE, holder).catch(() => undefined);
    },
  };
}

export type RetentionSweeper = ReturnType<typeof createRetentionSweeper>;
