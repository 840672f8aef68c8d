import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type Logger, requestLogger } from '../http/logging';
import { AppError } from './errors';

/** The error of a query cut at its deadline (503 on REST, with Retry-After). */
export const deadlineExceeded = (ms: number) =>
  new AppError('DEADLINE_EXCEEDED', `The request ran past its deadline of ${ms} ms`);

/**
 * An AbortSignal that aborts `ms` after it is made, with a DEADLINE_EXCEEDED error as its reason.
 * The executor Yoga runs (@graphql-tools/executor) calls `throwIfAborted()` before every field
 * and, once aborted, starts no further resolver and stops waiting for the ones in flight. A timer
 * alone fires only when the event loop is free, never in the middle of a long synchronous stretch
 * (thousands of fields resolving without I/O), so every check also reads the clock.
 */
function deadlineSignal(
  ms: number,
  endsAt: number,
  logger: { warn(fields: object, message: string): void },
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const { signal } = controller;
  // Settled once cut or once execution is done (an execution that throws never reports done).
  let settled = false;
  const expire = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    logger.warn({ deadline_ms: ms }, 'query cut at its deadline');
    controller.abort(deadlineExceeded(ms));
  };
  const timer = setTimeout(expire, Math.max(0, endsAt - performance.now())).unref();
  const throwIfAborted = signal.throwIfAborted.bind(signal);
  signal.throwIfAborted = () => {
    if (!settled && performance.now() >= endsAt) expire();
    throwIfAborted();
  };
  const clear = () => {
    settled = true;
    clearTimeout(timer);
  };
  return { signal, clear };
}

/**
 * `done`, unless `signal` aborts first: then its reason, at once, whatever `done` still waits for;
 * and its reason too when `done` settles after the deadline (the signal's check reads the clock),
 * as the executor would have stopped at its next field. For what runs outside the executor (a
 * compiled operation, a direct read), which checks no signal itself.
 */
export function untilAborted<T>(done: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const checked = done.then((value) => {
    signal?.throwIfAborted();
    return value;
  });
  if (!signal) return checked;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    checked.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A read cut at the request's deadline: `answer` is the error the executor answers it with. */
export class DeadlineError extends Error {
  constructor(readonly answer: AppError) {
    super(answer.message);
  }
}

/**
 * The value of a read that runs outside the executor (a direct read), held to the deadline as the
 * executor holds a query (useRequestDeadline below): no answer is awaited past it, and one that
 * came after it is not used. The clock starts before the read does: a SQLite statement runs
 * synchronously, within the call. Past the deadline: a DeadlineError, logged as the executor's cut is.
 */
export async function withinDeadline<T>(
  read: () => Promise<T>,
  ms: number,
  { logger, request }: { logger: Logger; request?: Request },
): Promise<T> {
  if (ms === 0) return read();
  const endsAt = deadlineOf(request, ms);
  const cut = () => {
    requestLogger(logger, request).warn({ deadline_ms: ms }, 'query cut at its deadline');
    return new DeadlineError(deadlineExceeded(ms));
  };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(cut()), Math.max(0, endsAt - performance.now())).unref();
  });
  try {
    const value = await Promise.race([read(), expired]);
    if (performance.now() >= endsAt) throw cut();
    return value;
  } catch (error) {
    // A read that failed past the deadline is cut, as the executor's next check would cut it.
    if (!(error instanceof DeadlineError) && performance.now() >= endsAt) throw cut();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * When each request's deadline ends, once something started its clock: a read outside the
 * executor and then the executor, when the read leaves the request to it, share one deadline.
 */
const deadlines = new WeakMap<Request, number>();

/** The end of the request's deadline, started now unless it already runs (a request outside one: now). */
function deadlineOf(request: Request | undefined, ms: number): number {
  if (!request) return performance.now() + ms;
  let endsAt = deadlines.get(request);
  if (endsAt === undefined) {
    endsAt = performance.now() + ms;
    deadlines.set(request, endsAt);
  }
  return endsAt;
}

/** Where a query's context holds its deadline's signal. */
export const DEADLINE = Symbol('deadline');

/**
 * Cuts a query (on /graphql, and a REST read, which runs through the same pipeline) that runs past
 * REQUEST_DEADLINE_MS, so no request can hold the server. Like Yoga's useExecutionCancellation,
 * it hands the executor an AbortSignal.
 *
 * Mutations are left alone: one cut after its write committed would answer an error for a change
 * that was made, and a retry would make it twice. Their selections are bounded by the complexity
 * limit. Subscriptions are not cut either: a stream is meant to stay open.
 */
export function useRequestDeadline(ms: number, logger: Logger): Plugin {
  if (ms === 0) return {};
  return {
    onExecute({ args, executeFn, setExecuteFn, extendContext }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const { request } = args.contextValue as { request?: Request };
      const { signal, clear } = deadlineSignal(ms, deadlineOf(request, ms), {
        warn: (fields: object, message: string) => requestLogger(logger, request).warn(fields, message),
      });
      (args as { signal?: AbortSignal }).signal = signal;
      // For the resolvers' own check (DeadlinePlugin), which compiled operations rely on.
      extendContext({ [DEADLINE]: signal } as Record<symbol, AbortSignal>);
      // Cleared however execution ends, a throw included, so the timer never reports a cut of a
      // request that was over long before.
      setExecuteFn(async (execArgs) => {
        try {
          return await executeFn(execArgs);
        } finally {
          clear();
        }
      });
    },
  };
}
