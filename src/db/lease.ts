import type { Db } from './client';
import { isPrismaError } from './errors';

/*
 * Leases on periodic jobs, kept in the database every instance shares (the JobLease table), so
 * that a job such as the retention sweep runs on one instance at a time, with no coordinator
 * besides the database. A lease is a row: who holds it, and until when. Taking it is one
 * conditional UPDATE (or, the first time, one INSERT), which both databases run atomically: of
 * instances racing for it, exactly one sees its write land. A holder that dies simply stops
 * renewing, and the lease passes on once it expires.
 */

/** Takes (or renews) the lease `name` for `ttlMs` when it is free, expired or already ours. */
export async function takeLease(db: Db, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const now = new Date();
  const expires_at = new Date(now.getTime() + ttlMs);
  const { count } = await db.jobLease.updateMany({
    where: { name, OR: [{ holder }, { expires_at: { lt: now } }] },
    data: { holder, expires_at },
  });
  if (count === 1) return true;
  try {
    await db.jobLease.create({ data: { name, holder, expires_at } });
    return true;
  } catch (error) {
    // Held by another instance (the row exists and is not ours or expired), or it won the insert.
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
