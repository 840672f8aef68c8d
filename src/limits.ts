import type { Plugin } from 'graphql-yoga';
import Redis from 'ioredis';
import { authenticate, type Identity } from './auth';
import { config } from './config';
import { detailResponse } from './errors';
import { logger } from './logger';

const WINDOW_MS = 60_000;

type Hit = { count: number; resetInMs: number };
interface Counter {
  hit(key: string): Promise<Hit>;
}

/** Callers tracked at once in memory (about 20 MB): past it, the oldest windows are dropped first. */
const MAX_CALLERS = 100_000;

/** Fixed one-minute windows in this process' memory: enough for one instance. */
export class MemoryCounter implements Counter {
  // In order of window start (a new window re-inserts its key), so the first entry is the oldest.
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly maxCallers = MAX_CALLERS) {
    setInterval(() => {
      const now = Date.now();
      for (const [key, w] of this.windows) if (now - w.start >= WINDOW_MS) this.windows.delete(key);
    }, WINDOW_MS).unref();
  }

  async hit(key: string): Promise<Hit> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) {
      // Keys come from clients (addresses, X-Forwarded-For): never more than maxCallers of them.
      this.windows.delete(key);
      if (this.windows.size >= this.maxCallers) this.windows.delete(this.windows.keys().next().value as string);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    return { count: w.count, resetInMs: w.start + WINDOW_MS - now };
  }

  get size(): number {
    return this.windows.size;
  }
}

/** The same windows in Redis, so that several instances share one budget per caller. */
class RedisCounter implements Counter {
  private readonly redis: Redis;

  constructor(url: string) {
    // Commands wait for the connection (a fresh instance is not yet connected), but never long:
    // past the timeout the request goes through unlimited.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 500 });
    this.redis.on('error', (error) => logger.warn({ err: error }, 'rate limiter: Redis error'));
  }

  async hit(key: string): Promise<Hit> {
    const k = `${config.redisPrefix}rate:${key}`;
    // SET NX starts the window (works on every Redis, unlike PEXPIRE NX, which needs 7).
    const result = await this.redis.multi().set(k, 0, 'PX', WINDOW_MS, 'NX').incr(k).pttl(k).exec();
    const count = Number(result?.[1]?.[1]);
    const ttl = Number(result?.[2]?.[1]);
    return { count, resetInMs: ttl > 0 ? ttl : WINDOW_MS };
  }
}

function clientAddress(request: Request, serverContext: { req?: { socket?: { remoteAddress?: string } } }) {
  if (config.trustProxy) {
    // Capped: the header is the client's to write, and the address becomes a key kept in memory.
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim().slice(0, 64);
    if (forwarded) return forwarded;
  }
  return serverContext.req?.socket?.remoteAddress ?? 'unknown';
}

/**
 * Per-caller rate limiting, off unless RATE_LIMIT_PER_MINUTE is set: a verified caller is counted
 * by identity, anyone else by address. It runs before REST and GraphQL alike, and hands the
 * established identity on to the context so credentials are checked once per request.
 */
export function useRateLimit(graphqlEndpoint: string): Plugin {
  const limit = config.rateLimitPerMinute;
  if (limit === 0) return {};
  const counter: Counter = config.redisUrl ? new RedisCounter(config.redisUrl) : new MemoryCounter();

  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      if (url.pathname === '/health' || url.pathname === '/ready') return;
      const context = serverContext as { identity?: Promise<Identity>; req?: { socket?: { remoteAddress?: string } } };
      context.identity = authenticate(request);
      const caller = await context.identity;
      const key = caller.isAdmin
        ? 'admin'
        : caller.userId !== null
          ? `user:${caller.userId}`
          : `ip:${clientAddress(request, context)}`;
      let hit: Hit;
      try {
        hit = await counter.hit(key);
      } catch (error) {
        // Better to serve without a limit for a moment than to refuse everyone.
        logger.warn({ err: error }, 'rate limiter unavailable; request let through');
        return;
      }
      if (hit.count <= limit) return;
      const headers = { 'retry-after': String(Math.max(1, Math.ceil(hit.resetInMs / 1000))) };
      const message = `Too many requests: at most ${limit} a minute`;
      endResponse(
        url.pathname === graphqlEndpoint
          ? Response.json({ errors: [{ message, extensions: { code: 'RATE_LIMITED' } }] }, { status: 429, headers })
          : detailResponse(429, message, headers),
      );
    },
  };
}
