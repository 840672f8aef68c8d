import type { Context } from '../graphql/context';
import { AppError } from '../graphql/errors';
import type { EventStream } from '../graphql/pubsub';
import { requestLogger } from '../http/logging';
import type { Metrics } from '../http/metrics';

/** The request parts Yoga adds to the context: the fetch request and, on a Node server, the response. */
type StreamContext = Context & {
  request: Request;
  req?: { socket?: { remoteAddress?: string } };
  res?: { writableFinished: boolean; destroy(): void };
};

/** How long a subscriber that fell behind has to read its last event before its connection is closed. */
const CUT_OFF_GRACE_MS = 10_000;
/** setTimeout's longest delay; a credential valid for longer is checked on each event instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Open streams, in all and per caller, within SSE_MAX_STREAMS and SSE_MAX_STREAMS_PER_CALLER. */
export type StreamSlots = {
  /** Takes one of `key`'s slots (or refuses with 429); `end` ends the stream when the gateway drains or closes. */
  acquire(key: string, end: (why: StreamsEnd) => void): () => void;
  /** Ends every open stream: the gateway is draining (clients hear why) or closing. */
  endAll(why: StreamsEnd): void;
};

/** Why the gateway ends every stream: it starts draining (shutdown), or it closes. */
export type StreamsEnd = 'draining' | 'closing';

export function createStreamSlots(
  limits: { total: number; perCaller: number },
  metrics: Pick<Metrics, 'increment' | 'add'>,
): StreamSlots {
  const open = { total: 0, byCaller: new Map<string, number>() };
  const enders = new Set<(why: StreamsEnd) => void>();
  return {
    endAll(why) {
      for (const end of [...enders]) end(why);
    },
    acquire(key, end) {
      const mine = open.byCaller.get(key) ?? 0;
      const scope = open.total >= limits.total ? 'total' : mine >= limits.perCaller ? 'caller' : null;
      if (scope) {
        metrics.increment('streams_refused_total', { scope });
        throw new AppError(
          'RATE_LIMITED',
          scope === 'total'
            ? 'Too many open subscriptions on this server; try again later'
            : `Too many open subscriptions: at most ${limits.perCaller} per caller`,
          { http: { headers: { 'retry-after': '5' } } },
        );
      }
      open.total += 1;
      open.byCaller.set(key, mine + 1);
      metrics.add('streams_open', 1);
      enders.add(end);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        enders.delete(end);
        open.total -= 1;
        const left = (open.byCaller.get(key) ?? 1) - 1;
        if (left > 0) open.byCaller.set(key, left);
        else open.byCaller.delete(key);
        metrics.add('streams_open', -1);
      };
    },
  };
}

/** A stream's last event, for an ending the client should hear about; the field's resolver throws it. */
export class StreamEnd {
  constructor(readonly error: AppError) {}
}

/** Wraps a subscription field's resolver so a StreamEnd becomes the stream's final error event. */
export function endOr<E, R>(resolve: (event: E) => R): (event: E | StreamEnd) => R {
  return (event) => {
    if (event instanceof StreamEnd) throw event.error;
    return resolve(event);
  };
}

type Stop = 'closed' | 'expired' | 'draining';

async function* guarded<T>(
  maxQueued: number,
  events: EventStream<T>,
  stop: { reason: Stop | null },
  allowed: () => Promise<boolean>,
  stillValidNow: () => Promise<boolean>,
  release: () => void,
): AsyncGenerator<T | StreamEnd> {
  try {
    for (;;) {
      // A stop (disconnect, expiry) ends `events`, which settles this wait: one promise per
      // event and nothing that outlives it.
      const next = await events.next();
      if (next.done) {
        if (stop.reason === 'draining') {
          // A completion, not a cut: the client hears why and can subscribe again elsewhere.
          yield new StreamEnd(
            new AppError('SERVICE_UNAVAILABLE', 'This server is shutting down; subscribe again to continue'),
          );
        } else if (stop.reason === 'expired') {
          yield new StreamEnd(new AppError('UNAUTHENTICATED', 'Your token expired; subscribe again with a new one'));
        } else if (events.overflowed) {
          yield new StreamEnd(
            new AppError(
              'SUBSCRIBER_TOO_SLOW',
              `This subscription fell more than ${maxQueued} events behind and was ended; subscribe again (and read the chat to catch up)`,
            ),
          );
        }
        return;
      }
      // Access can change long after the subscription began: the chat can move to someone else,
      // a key can be revoked. Checked on every event, before anything of it is sent.
      if (!(await stillValidNow()) || !(await allowed())) return;
      yield next.value;
    }
  } finally {
    await events.return?.();
    release();
  }
}

/**
 * The one way a subscription field streams events. It holds one of the caller's stream slots
 * (429 beyond SSE_MAX_STREAMS_PER_CALLER or SSE_MAX_STREAMS) for as long as the stream is open;
 * passes an event on only while the caller may still see it (`allowed`, and credentials still
 * valid); ends at the token's expiry with an UNAUTHENTICATED event; and ends a subscriber that
 * falls SSE_MAX_QUEUED_EVENTS behind with a SUBSCRIBER_TOO_SLOW event, closing its connection
 * if it does not read even that.
 */
export function guardStream<T>(
  context: Context,
  subscribe: (onOverflow: () => void) => EventStream<T>,
  allowed: () => Promise<boolean> = async () => true,
): AsyncIterable<T | StreamEnd> {
  const ctx = context as StreamContext;
  const release = ctx.streams.acquire(ctx.auth.callerKey(ctx, ctx.request, ctx), (why) =>
    end(why === 'draining' ? 'draining' : 'closed'),
  );
  const stop: { reason: Stop | null } = { reason: null };
  let expiry: NodeJS.Timeout | undefined;
  const events = subscribe(() => {
    const res = ctx.res;
    if (!res) return;
    setTimeout(() => {
      if (res.writableFinished) return;
      requestLogger(ctx.logger, ctx.request).warn('subscriber did not read its last event; closing its connection');
      res.destroy();
    }, CUT_OFF_GRACE_MS).unref();
  });
  const end = (reason: Stop) => {
    stop.reason ??= reason;
    clearTimeout(expiry);
    void events.return?.();
    // Also here and not only in the generator's finally: a generator never started (Yoga answers
    // 406 to a subscription over plain JSON without reading it) never runs its finally.
    if (reason === 'closed') release();
  };
  const credential = ctx.credential;
  const untilExpiry = credential && 'expiresAt' in credential ? credential.expiresAt - Date.now() : null;
  if (untilExpiry !== null && untilExpiry <= MAX_TIMER_MS) {
    // Unref'd: a stream waiting for its token to expire must not keep a stopping process alive.
    expiry = setTimeout(() => end('expired'), Math.max(0, untilExpiry)).unref();
  }
  ctx.request.signal.addEventListener('abort', () => end('closed'), { once: true });
  // The response's end, however it comes (finished, aborted, never streamed): the surest sign the
  // stream is over on a Node server, where the request's signal is not aborted after a finish.
  (ctx.res as { once?: (event: 'close', listener: () => void) => void } | undefined)?.once?.('close', () =>
    end('closed'),
  );
  return guarded(
    ctx.config.sseMaxQueuedEvents,
    events,
    stop,
    allowed,
    () => ctx.auth.stillValid(ctx),
    () => {
      clearTimeout(expiry);
      release();
    },
  );
}
