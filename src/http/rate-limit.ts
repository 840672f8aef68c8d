import type { Plugin } from 'graphql-yoga';
import Redis from 'ioredis';
import { authenticate, type Identity } from '../auth/identify';
import { config } from '../config';
import { logger } from './logging';
import { metrics } from './metrics';
import { errorResponse } from './respond';

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

/**
 * The same windows in Redis, so that several instances share one budget per caller. While Redis
 * cannot be reached, each instance counts in its own memory instead: callers stay limited (per
 * instance), and no request waits on a dead connection. It switches back once Redis answers.
 */
class RedisCounter implements Counter {
  private readonly redis: Redis;
  private readonly fallback = new MemoryCounter();
  private degraded = false;
  private readonly firstConnection: Promise<void>;

  constructor(url: string) {
    // No offline queue: while disconnected a command fails at once instead of waiting.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 500, enableOfflineQueue: false });
    this.redis.on('error', (error) => this.degrade(error));
    this.firstConnection = new Promise<void>((resolve) => {
      this.redis.once('ready', () => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.redis.on('ready', () => {
      if (this.degraded) logger.info('rate limiter: Redis reachable again; limits shared again');
      this.degraded = false;
    });
  }

  private degrade(error: unknown) {
    metrics.increment('dependency_errors_total', { dependency: 'redis', operation: 'rate-limit' });
    if (!this.degraded) logger.warn({ err: error }, 'rate limiter: Redis unavailable; counting in this instance');
    this.degraded = true;
  }

  async hit(key: string): Promise<Hit> {
    // A fresh instance waits (briefly) for its first connection rather than count its first
    // requests alone; once Redis has been reached, an outage falls back at once.
    if (this.redis.status !== 'ready' && !this.degraded) await this.firstConnection;
    if (this.redis.status !== 'ready') return this.fallback.hit(key);
    const k = `${config.redisPrefix}rate:${key}`;
    try {
      // SET NX starts the window (works on every Redis, unlike PEXPIRE NX, which needs 7).
      const result = await this.redis.multi().set(k, 0, 'PX', WINDOW_MS, 'NX').incr(k).pttl(k).exec();
      const count = Number(result?.[1]?.[1]);
      const ttl = Number(result?.[2]?.[1]);
      if (!Number.isFinite(count)) throw new Error('unexpected reply from Redis');
      return { count, resetInMs: ttl > 0 ? ttl : WINDOW_MS };
    } catch (error) {
      this.degrade(error);
      return this.fallback.hit(key);
    }
  }
}

type ServerContext = { req?: { socket?: { remoteAddress?: string } } };

function clientAddress(request: Request, serverContext: ServerContext) {
  if (config.trustProxy) {
    // Capped: the header is the client's to write, and the address becomes a key kept in memory.
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim().slice(0, 64);
    if (forwarded) return forwarded;
  }
  return serverContext.req?.socket?.remoteAddress ?? 'unknown';
}

/** Whom a request counts against, for rate limits and stream caps: a verified caller, else its address. */
export function callerKey(caller: Identity, request: Request, serverContext: ServerContext): string {
  if (caller.isAdmin) return 'admin';
  if (caller.userId !== null) return `user:${caller.userId}`;
  return `ip:${clientAddress(request, serverContext)}`;
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
      if (url.pathname === '/health' || url.pathname === '/ready' || url.pathname === '/metrics') return;
      const context = serverContext as ServerContext & { identity?: Promise<Identity> };
      context.identity = authenticate(request);
      const key = callerKey(await context.identity, request, context);
      const hit = await counter.hit(key);
      if (hit.count <= limit) return;
      const headers = { 'retry-after': String(Math.max(1, Math.ceil(hit.resetInMs / 1000))) };
      const message = `Too many requests: at most ${limit} a minute`;
      endResponse(errorResponse(url.pathname === graphqlEndpoint, 'RATE_LIMITED', message, headers));
    },
  };
}
