import type { SqlReader } from '../db/direct';
import type { Context } from '../graphql/context';
import { deadlineExceeded } from '../graphql/deadline';
import { currentRequest } from '../http/logging';
import { listChats, readChatWithMessages } from '../modules/chats/direct-reads';
import type { CompiledRoute } from './compile';

/*
 * The two most frequent REST reads, answered from SQL without the GraphQL executor and the Prisma
 * client (REST_DIRECT_READS): a chat with its messages, and the chat list. Through the executor, a
 * chat read's CPU went mostly to the layers every request crosses (Prisma's client alone about a
 * fifth, the executor and its plugins about as much); bench/README.md, "Changes measured", has
 * the numbers.
 *
 * What stays the same: the route's arguments are read and checked as before (rest/arguments.ts),
 * the caller is identified by the same context factory, and the access rules are the same
 * functions (auth/access.ts). A read that cannot answer exactly as the resolvers would (a caller
 * the resolvers refuse, a chat not found, a branched chat, a tag filter, an argument out of
 * range) answers undefined and the route's operation runs as before; so does one whose SQL failed,
 * and the executor reports the database's error as it always has. REQUEST_DEADLINE_MS holds a
 * direct read as it holds the operation (503 past it). test/rest/direct-reads.test.ts
 * sends the same requests to a gateway without direct reads and compares the answers.
 */

type DirectRead = (sql: SqlReader, ctx: Context, args: Record<string, unknown>) => Promise<object | undefined>;

const DIRECT_READS = new Map<string, DirectRead>([
  ['GET /chats/:chat_id', (sql, ctx, args) => readChatWithMessages(sql, ctx, args, ctx.config.maxMessagesPerRead)],
  ['GET /chats/', listChats],
]);

/** Reads answered directly and reads left to the executor, for tests. */
export const directReadStats = { served: 0, declined: 0, failed: 0 };

/** True when the route has a direct read: only its routes are worth looking at. */
export function hasDirectRead(route: Pick<CompiledRoute, 'method' | 'path'>): boolean {
  return DIRECT_READS.has(`${route.method} ${route.path}`);
}

/**
 * The route's JSON answer read directly, or undefined for the route's operation to answer. The
 * context is the one the operation would run with.
 */
export async function readDirectly(
  route: Pick<CompiledRoute, 'method' | 'path' | 'fieldName'>,
  ctx: Context,
  args: Record<string, unknown>,
): Promise<string | undefined> {
  const read = DIRECT_READS.get(`${route.method} ${route.path}`);
  // Without a verified caller the resolvers' scope check answers (401/403).
  if (!read || !ctx.sql || !ctx.authenticated) return undefined;
  // The same span an operation has, so the statements' spans have a parent.
  const endSpan = currentRequest()?.trace?.operation('query', route.fieldName);
  try {
    const value = await withinDeadline(read(ctx.sql, ctx, args), ctx);
    if (value === undefined) {
      directReadStats.declined++;
      return undefined;
    }
    directReadStats.served++;
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof DeadlineError) throw error.cause;
    directReadStats.failed++;
    ctx.logger.warn({ err: error, route: route.path }, 'direct read failed: the route’s operation answers');
    return undefined;
  } finally {
    endSpan?.(0);
  }
}

/** A read cut at the request's deadline: answered as the executor answers it, never retried. */
class DeadlineError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

/**
 * The read's value, as REQUEST_DEADLINE_MS holds the route's operation to it (graphql/deadline.ts):
 * no answer is awaited past the deadline, and one that came after it is not used. A SQLite read
 * runs synchronously, so only the second applies to it, as to the executor's statements.
 */
async function withinDeadline<T>(read: Promise<T>, ctx: Context): Promise<T> {
  const ms = ctx.config.requestDeadlineMs;
  if (ms === 0) return read;
  const endsAt = performance.now() + ms;
  const cut = () => {
    ctx.logger.warn({ deadline_ms: ms }, 'query cut at its deadline');
    return new DeadlineError(deadlineExceeded(ms));
  };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(cut()), ms).unref();
  });
  try {
    const value = await Promise.race([read, expired]);
    if (performance.now() >= endsAt) throw cut();
    return value;
  } finally {
    clearTimeout(timer);
  }
}
