// Prisma's codes for "cannot reach / lost / timed out waiting for the database", and the driver
// adapters' kinds for the same, found on the error's `meta.driverAdapterError`.
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_MESSAGE =
  /Can't reach database server|Connection terminated|ECONNREFUSED|ECONNRESET|timeout exceeded when trying to connect|database is locked|SQLITE_BUSY/;
// PostgreSQL's own codes for the same: class 08 (connection exceptions), 57P01-57P03 (the server
// is shutting down, restarting or starting up: a failover), 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/**
 * The database could not be reached or answered too late: the request may succeed if retried
 * (503), unlike a bug (500). Looks through GraphQL's wrapping and the driver adapter's cause.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    type AdapterCause = { kind?: unknown; originalCode?: unknown };
    const e = current as Error & {
      code?: unknown;
      meta?: { driverAdapterError?: { cause?: AdapterCause } };
      originalError?: unknown;
    };
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    // Wrapped by the client, or straight from the adapter (statements of db/adapter-sql.ts).
    const cause =
      e.name === 'DriverAdapterError' ? (e.cause as AdapterCause | undefined) : e.meta?.driverAdapterError?.cause;
    if (typeof cause?.kind === 'string' && UNAVAILABLE_KINDS.has(cause.kind)) return true;
    if (typeof cause?.originalCode === 'string' && UNAVAILABLE_SQLSTATE.test(cause.originalCode)) return true;
    if (e.name.startsWith('PrismaClient') && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    if (e.name === 'PrismaClientInitializationError') return true;
    current = e.originalError ?? e.cause;
  }
  return false;
}

/** A driver's own codes for the same: the socket's, and SQLite's busy or locked file. */
const UNAVAILABLE_DRIVER_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|SQLITE_BUSY\w*|SQLITE_LOCKED\w*)$/;

/**
 * The same for an error straight from a driver (pg or better-sqlite3, as the direct reads of
 * src/db/direct.ts get them), which Prisma has not wrapped.
 */
export function isDriverUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_DRIVER_CODES.test(code))) return true;
  return UNAVAILABLE_MESSAGE.test(error.message);
}

/** SQLite's busy or locked file, as the client reports it (SQLITE_BUSY and its extended codes). */
export function isSqliteBusy(error: unknown): boolean {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null)?.meta
    ?.driverAdapterError?.cause;
  return typeof cause?.originalCode === 'string' && /^SQLITE_BUSY/.test(cause.originalCode);
}

/** A Prisma error with this code, e.g. P2002 (unique violation), P2003 (foreign key), P2025 (no row). */
export function isPrismaError(error: unknown, code: string): boolean {
  return (
    error instanceof Error &&
    error.name === 'PrismaClientKnownRequestError' &&
    (error as Error & { code?: unknown }).code === code
  );
}
