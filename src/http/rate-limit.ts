import type { Plugin } from 'graphql-yoga';
import Redis from 'ioredis';
import type { Auth } from '../auth/identify';
import type { Logger } from './logging';
import type { Metrics } from './metrics';
import { errorResponse } from './respond';

const WINDOW_MS = 60_000;

type Hit = { count: number; resetInMs: number };
interface Counter {
  hit(key: string): Promise<Hit>;
  close(): void;
}

/** Callers tracked at once in memory (about 20 MB): past it, the oldest windows are dropped first. */
const MAX_CALLERS = 100_000;

/** Fixed one-minute windows in this process' memory: enough for one instance. */
export class MemoryCounter implements Counter {
  // In order of window start (a new window re-inserts its key), so the first entry is the oldest.
  private readonly windows = new Map<string, { start: number; count: number }>();

  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly maxCallers = MAX_CALLERS) {
    this.sweeper = setInterval(() => {
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

  close(): void {
    clearInterval(this.sweeper);
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

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly metrics: Pick<Metrics, 'increment'>,
  ) {
    // No offline queue: while disconnected a command fails at once instead of waiting.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 500, enableOfflineQueue: false });
    this.redis.on('error', (error) => this.degrade(error));
    this.firstConnection = new Promise<void>((resolve) => {
      this.redis.once('ready', () => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.redis.on('ready', () => {
      if (this.degraded) this.logger.info('rate limiter: Redis reachable again; limits shared again');
      this.degraded = false;
    });
  }

  private degrade(error: unknown) {
    this.metrics.increment('dependency_errors_total', { dependency: 'redis', operation: 'rate-limit' });
    if (!this.degraded) this.logger.warn({ err: error }, 'rate limiter: Redis unavailable; counting in this instance');
    this.degraded = true;
  }

  async hit(key: string): Promise<Hit> {
    // A fresh instance waits (briefly) for its first connection rather than count its first
    // requests alone; once Redis has been reached, an outage falls back at once.
    if (this.redis.status !== 'ready' && !this.degraded) await this.firstConnection;
    if (this.redis.status !== 'ready') return this.fallback.hit(key);
    const k = `${this.prefix}rate:${key}`;
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

  close(): void {
    this.fallback.close();
    this.redis.disconnect();
  }
}

export type RateLimitOptions = {
  /** Requests per caller per minute (RATE_LIMIT_PER_MINUTE); 0: no limit. */
  perMinute: number;
  /** Redis to share the counts between instances (REDIS_URL and REDIS_PREFIX); null: this process only. */
  redis: { url: string; prefix: string } | null;
  graphqlEndpoint: string;
  /** Paths that are never limited (health checks and metrics, for load balancers and scrapers). */
  exempt: ReadonlySet<string>;
  auth: Auth;
  logger: Pick<Logger, 'warn' | 'info'>;
  metrics: Pick<Metrics, 'increment'>;
};

/**
 * Per-caller rate limiting, off unless RATE_LIMIT_PER_MINUTE is set: a verified caller is counted
 * by identity, anyone else by address. It runs before REST and GraphQL alike; the identity it
 * establishes is the one the context uses (Auth.identify asks once per request).
 */
export function createRateLimit(options: RateLimitOptions): { plugin: Plugin; close(): void } {
  const limit = options.perMinute;
  if (limit === 0) return { plugin: {}, close: () => undefined };
  const { auth, redis } = options;
  const counter: Counter = redis
    ? new RedisCounter(redis.url, redis.prefix, options.logger, options.metrics)
    : new MemoryCounter();

  const plugin: Plugin = {
    async onRequest({ request, url, serverContext, endResponse }) {
      if (options.exempt.has(url.pathname)) return;
      const key = auth.callerKey(await auth.identify(request, serverContext), request, serverContext);
      const hit = await counter.hit(key);
      if (hit.count <= limit) return;
      const headers = { 'retry-after': String(Math.max(1, Math.ceil(hit.resetInMs / 1000))) };
      const message = `Too many requests: at most ${limit} a minute`;
      endResponse(errorResponse(url.pathname === options.graphqlEndpoint, 'RATE_LIMITED', message, headers));
    },
  };
  return { plugin, close: () => counter.close() };
}
