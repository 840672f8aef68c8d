import type { SqlReader } from '../db/direct';
import { isDriverUnavailable } from '../db/errors';
import type { Context } from '../graphql/context';
import { DeadlineError, withinDeadline } from '../graphql/deadline';
import { databaseUnavailable } from '../graphql/errors';
import { requestLogger, requestOf } from '../http/logging';
import { listChats, readChatWithMessages } from '../modules/chats/direct-reads';
import type { CompiledRoute } from './compile';
import type { RouteSettings } from './routes';

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
 * range, a stored value the schema would refuse) answers undefined and the route's operation runs
 * as before; so does one whose SQL failed, and the executor reports the error as it always has.
 * A database that cannot be reached is answered 503 at once, as the executor would answer it,
 * rather than waited for twice. REQUEST_DEADLINE_MS holds a direct read as it holds the operation.
 * test/rest/direct-reads.test.ts sends the same requests to a gateway without direct reads and
 * compares the answers.
 */

type DirectRead = {
  /**
   * The selection this read answers, written out here rather than taken from routes.ts: when the
   * route's selection changes there (a field added), the two differ and the route is served by its
   * operation, with the new field, until its direct read answers it too and this text follows.
   */
  selection: (settings: RouteSettings) => string;
  read: (sql: SqlReader, ctx: Context, args: Record<string, unknown>) => Promise<object | undefined>;
};

const DIRECT_READS = new Map<string, DirectRead>([
  [
    'GET /chats/:chat_id',
    {
      selection: ({ maxMessagesPerRead }) =>
        `chat_id title created_at user_id messages(limit: ${maxMessagesPerRead}) { message_id chat_id content sender timestamp }`,
      read: (sql, ctx, args) => readChatWithMessages(sql, ctx, args, ctx.config.maxMessagesPerRead),
    },
  ],
  ['GET /chats/', { selection: () => 'chat_id user_id title created_at', read: listChats }],
]);

/** Each compiled route's direct read, once its selection was checked; null for none. */
const readsOf = new WeakMap<object, DirectRead | null>();

function directReadOf(route: CompiledRoute, settings: RouteSettings): DirectRead | null {
  let found = readsOf.get(route);
  if (found === undefined) {
    const entry = DIRECT_READS.get(`${route.method} ${route.path}`);
    found = entry && entry.selection(settings) === route.selection ? entry : null;
    readsOf.set(route, found);
  }
  return found;
}

/** True when the route may have a direct read: only its routes are worth a look. */
export function hasDirectRead(route: Pick<CompiledRoute, 'method' | 'path'>): boolean {
  return DIRECT_READS.has(`${route.method} ${route.path}`);
}

/**
 * The route's JSON answer read directly, or undefined for the route's operation to answer. The
 * context is the one the operation would run with. Throws the error to answer when the deadline
 * passed or the database cannot be reached.
 */
export async function readDirectly(
  route: CompiledRoute,
  ctx: Context,
  args: Record<string, unknown>,
): Promise<string | undefined> {
  const sql = ctx.config.restDirectReads ? ctx.sql : null;
  const direct = sql && directReadOf(route, ctx.config);
  // Without a verified caller the resolvers' scope check answers (401/403).
  if (!direct || !ctx.authenticated) return undefined;
  const count = (outcome: 'served' | 'declined' | 'failed') =>
    ctx.metrics.increment('rest_direct_reads_total', { route: route.path, outcome });
  // The same span an operation has, so the statements' spans have a parent.
  const endSpan = requestOf(ctx.request)?.trace?.operation('query', route.fieldName);
  try {
    const value = await withinDeadline(() => direct.read(sql, ctx, args), ctx.config.requestDeadlineMs, ctx);
    count(value === undefined ? 'declined' : 'served');
    return value === undefined ? undefined : JSON.stringify(value);
  } catch (error) {
    if (error instanceof DeadlineError) {
      ctx.metrics.increment('graphql_errors_total', { code: 'DEADLINE_EXCEEDED' });
      throw error.answer;
    }
    count('failed');
    if (isDriverUnavailable(error)) {
      ctx.metrics.increment('database_unavailable_total');
      ctx.metrics.increment('graphql_errors_total', { code: 'SERVICE_UNAVAILABLE' });
      throw databaseUnavailable();
    }
    requestLogger(ctx.logger, ctx.request).warn(
      { err: error, route: route.path },
      'direct read failed: the route’s operation answers',
    );
    return undefined;
  } finally {
    endSpan?.(0);
  }
}
