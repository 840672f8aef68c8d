import type { Db } from './client';
import { isPrismaError } from './errors';

/*
 * Leases on periodic jobs, kept in the database every instance shares (the JobLease table), so
 * that a job such as the retention sweep runs on one instance at a time, with no coordinator
 * besides the database. A lease is a row: who holds it, and until when. Taking it is one
 * conditional UPDATE (or, the first time, one INSERT), which both databases run atomically: of
 * instances racing for it, exactly one sees its write land. A holder that dies simply stops
 * renewing, and the lease passes on once it expires. Expiry is judged by each instance's clock:
 * their clocks must agree to well within a lease's length (NTP does).
 */

/** Takes (or renews) the lease `name` for `ttlMs` when it is free, expired or already ours. */
export async function takeLease(
  db: Db,
  name: string,
  holder: string,
  ttlMs: number,
  postgres: boolean,
): Promise<boolean> {
  const now = new Date();
  const expires_at = new Date(now.getTime() + ttlMs);
  const { count } = await db.jobLease.updateMany({
    where: { name, OR: [{ holder }, { expires_at: { lt: now } }] },
    data: { holder, expires_at },
  });
  if (count === 1) return true;
  // No row yet, or held by another instance (not ours, not expired). PostgreSQL inserts with ON
  // CONFLICT DO NOTHING, so a held lease is no error in its log; SQLite's refusal is caught.
  if (postgres) {
    const inserted = await db.$executeRaw`
      INSERT INTO "JobLease" ("name", "holder", "expires_at") VALUES (${name}, ${holder}, ${expires_at})
      ON CONFLICT DO NOTHING`;
    return inserted === 1;
  }
  try {
    await db.jobLease.create({ data: { name, holder, expires_at } });
    return true;
  } catch (error) {
    if (isPrismaError(error, 'P2002')) return false;
    throw error;
  }
}

/** Extends a lease we hold; false when it is no longer ours (it expired and another took it). */
export async function renewLease(db: Db, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const { count } = await db.jobLease.updateMany({
    where: { name, holder },
    data: { expires_at: new Date(Date.now() + ttlMs) },
  });
  return count === 1;
}

/** Gives a lease we hold back (it expires now), so that another instance may take it at once. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.jobLease.updateMany({ where: { name, holder }, data: { expires_at: new Date(0) } });
}
