import fs from 'node:fs';
import path from 'node:path';

/** The configuration, read from the environment once, validated, typed and frozen. */
export type Config = Readonly<{
  port: number;
  host: string;
  nodeEnv: string;
  isProduction: boolean;
  database: DatabaseConfig;
  adminApiKey: string | null;
  /** With a token, `GET /metrics` answers only `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  enableDebugRoutes: boolean;
  logLevel: LogLevel;
  maxMessageLength: number;
  maxBodyBytes: number;
  /** The largest body of POST /chats/import (a whole ChatGPT export), counted as it streams in. */
  importMaxBytes: number;
  /** Origins allowed to call from a browser (CORS); empty: none, ['*']: any. */
  corsOrigins: readonly string[];
  /** A chat younger than this is not "empty" yet for cleanup (its first message may be on its way). */
  emptyChatGraceSeconds: number;
  /** Chats inactive this many days are deleted by the retention sweep (users may set their own); null: kept. */
  retentionDays: number | null;
  /** How often this instance offers to run the retention sweep (one instance runs it); 0: never here. */
  retentionSweepSeconds: number;
  /**
   * The address clients reach this service at (`https://chat.example.com`, perhaps with a path),
   * without a trailing slash: share links are made from it. Null: from the request's own origin.
   */
  publicUrl: string | null;
  /** Where budget alerts are POSTed, signed; null: alerts are only stored and published. */
  alertWebhook: AlertWebhookConfig | null;
  /** How long a SIGTERM waits for in-flight requests before closing their connections. */
  shutdownTimeoutMs: number;
  /** How long a client may take to send a whole request (headers and body); responses are not limited. */
  requestTimeoutMs: number;
  /** How far V8 lets the heap grow past what survived the last full GC, in percent. */
  heapGrowthPercent: number;
  /**
   * Whether V8 marks the heap for a full GC on helper threads beside the main one: `auto` does
   * only when the process may run on more than one CPU (src/index.ts says why).
   */
  gcConcurrentMarking: 'auto' | 'on' | 'off';
  auth: AuthConfig;
  /** Requests per caller per minute; 0: no limit. */
  rateLimitPerMinute: number;
  /** Shared state for several instances (rate limits); null: in this process only. */
  redisUrl: string | null;
  /** Prefix of every Redis key, so several deployments can share one Redis. */
  redisPrefix: string;
  /** Take the client address from X-Forwarded-For (behind a trusted proxy). */
  trustProxy: boolean;
  /**
   * Serve plain REST requests straight from Node's HTTP server (src/rest/node-path.ts) rather than
   * through Yoga's request pipeline; the answers are the same. Off: everything goes through Yoga.
   */
  restNodePath: boolean;
  /**
   * Run the REST routes' operations compiled to JavaScript at start-up (src/graphql/compiled-execution.ts)
   * rather than interpreted by the GraphQL executor; the answers are the same. Off: the executor runs them.
   */
  restCompiledExecution: boolean;
  /**
   * Answer GET /chats/{chat_id} and GET /chats/ from SQL without the GraphQL executor
   * (src/rest/direct.ts); the answers are the same. Off: their operations run like every route's.
   */
  restDirectReads: boolean;
  /**
   * Answer the /graphql queries `chat` (with `messages`) and `chats` from SQL without the executor
   * when they select only what the direct reads answer (src/graphql/direct-queries.ts); the answers
   * are the same. Off: the executor answers every query.
   */
  graphqlDirectReads: boolean;
  /**
   * Serve plain /graphql queries straight from Node's HTTP server (src/graphql/node-path.ts), with
   * the same answers; only while CORS_ORIGINS and RATE_LIMIT_PER_MINUTE are off. Off: all through Yoga.
   */
  graphqlNodePath: boolean;
  /**
   * A /graphql query is compiled to JavaScript (src/graphql/compiled-execution.ts) once it has run
   * this many times, and runs compiled after that; 0: /graphql queries are always interpreted.
   */
  graphqlCompileAfter: number;
  /**
   * Worker processes serving the port (Node's cluster module); 1: this process serves it alone.
   * Live updates reach every worker; rate limits and stream caps are per worker unless REDIS_URL is set.
   */
  webConcurrency: number;
  enableGraphiql: boolean;
  enableIntrospection: boolean;
  graphqlMaxDepth: number;
  graphqlMaxComplexity: number;
  /** The most messages one read of a chat returns (GET /chats/{id}; `Chat.messages(limit)` at most). */
  maxMessagesPerRead: number;
  /** How long a GraphQL query (REST reads included) may run before it is cut; 0: no deadline. */
  requestDeadlineMs: number;
  /** A price table to use instead of the bundled src/modules/usage/prices.json. */
  pricesFile: string | null;
  /** How many events a subscriber may fall behind before its stream is ended. */
  sseMaxQueuedEvents: number;
  /** Open subscriptions (SSE streams) allowed in this process, and per caller. */
  sseMaxStreams: number;
  sseMaxStreamsPerCaller: number;
  /** The patches of Prisma internals to apply (each still only on the version it was written for). */
  prismaPatches: readonly PrismaPatch[];
  /** OpenTelemetry tracing, from the standard OTEL_* variables; null: off (the default). */
  tracing: TracingConfig | null;
}>;

/** The longest retention policy, globally or per user: 100 years. */
export const MAX_RETENTION_DAYS = 36_500;

export type AlertWebhookConfig = Readonly<{
  url: string;
  /** The HMAC-SHA256 key of the signature (`whsec_` + base64, as Standard Webhooks, or any text). */
  secret: string;
  /** The first retry's delay; each next one doubles, up to an hour. */
  retryMs: number;
}>;

export const OTEL_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

export type TracingConfig = Readonly<{
  /** Where spans are sent: the OTLP/HTTP traces endpoint (`.../v1/traces`). */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Headers sent with each export (an API key, say). */
  headers: Readonly<Record<string, string>>;
  serviceName: string;
  /** Extra resource attributes (`deployment.environment=prod,...`). */
  resourceAttributes: Readonly<Record<string, string>>;
  sampler: (typeof OTEL_SAMPLERS)[number];
  /** The sampled fraction for the ratio samplers, 0 to 1. */
  samplerRatio: number;
  /** How long finished spans wait to be sent in a batch. */
  batchDelayMs: number;
}>;

/** The largest MAX_MESSAGE_LENGTH allowed. */
export const MAX_MESSAGE_LENGTH_LIMIT = 10_000_000;

export const PRISMA_PATCHES = ['plan-cache', 'sqlite-statements'] as const;
export type PrismaPatch = (typeof PRISMA_PATCHES)[number];

/** `on` (all), `off` (none), or a comma-separated list of patch names. */
function prismaPatches(env: Env): PrismaPatch[] {
  const raw = read(env, 'PRISMA_PATCHES')?.toLowerCase() ?? 'on';
  if (raw === 'on') return [...PRISMA_PATCHES];
  if (raw === 'off') return [];
  const list = raw.split(',').map((name) => name.trim());
  for (const name of list) {
    if (!(PRISMA_PATCHES as readonly string[]).includes(name)) {
      throw new ConfigError(`PRISMA_PATCHES must be on, off or a list of ${PRISMA_PATCHES.join(', ')}, got "${raw}"`);
    }
  }
  return list as PrismaPatch[];
}

export type AuthConfig = Readonly<
  | { mode: 'off' }
  | { mode: 'api-key' }
  | { mode: 'jwt'; secret: string | null; jwksUrl: string | null; issuer: string | null; audience: string | null }
>;

function auth(env: Env): AuthConfig {
  const mode = oneOf(env, 'AUTH_MODE', ['off', 'jwt', 'api-key'] as const, 'off');
  if (mode !== 'jwt') return { mode };
  const secret = read(env, 'JWT_SECRET') ?? null;
  const jwksUrl = read(env, 'JWT_JWKS_URL') ?? null;
  if (!secret && !jwksUrl) throw new ConfigError('AUTH_MODE=jwt needs JWT_SECRET (HS256) or JWT_JWKS_URL');
  if (secret && secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters');
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) throw new ConfigError('JWT_JWKS_URL must be an http(s) URL');
  return {
    mode,
    secret,
    jwksUrl,
    issuer: read(env, 'JWT_ISSUER') ?? null,
    audience: read(env, 'JWT_AUDIENCE') ?? null,
  };
}

export type DatabaseConfig =
  | Readonly<{ provider: 'sqlite'; url: string; file: string }>
  | Readonly<{
      provider: 'postgresql';
      url: string;
      poolSize: number;
      /** Each SQL text prepared once per connection (src/db/pg-statements.ts). */
      preparedStatements: boolean;
    }>;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The folder holding package.json, found from here so it is the same from src/ and dist/. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new ConfigError('cannot find the project root (no package.json above src/)');
    dir = parent;
  }
  return dir;
}

export type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

/** A secret setting: unset, or at least `minLength` characters (a short one is guessable). */
function secret(env: Env, name: string, minLength: number): string | null {
  const value = read(env, name);
  if (value === undefined) return null;
  if (value.length < minLength) throw new ConfigError(`${name} must be at least ${minLength} characters`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** `key=value,key2=value2` with percent-encoded values, as the OpenTelemetry variables take them. */
function keyValues(env: Env, name: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of (read(env, name) ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    if (!key) throw new ConfigError(`${name} must be key=value pairs separated by commas, got "${pair.trim()}"`);
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new ConfigError(`${name}: the value of ${key} is not valid percent-encoding`);
    }
    // Sent as HTTP headers (or resource attributes): a name must be a header token, a value
    // must hold no control character (a line break would make every export fail).
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new ConfigError(`${name}: "${key}" is not a valid name`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    if (/[\u0000-\u001f\u007f]/.test(value))
      throw new ConfigError(`${name}: the value of ${key} holds a control character`);
    result[key] = value;
  }
  return result;
}

/**
 * Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
 * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`), unless OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none. The variables and their defaults are OpenTelemetry's.
 */
function tracing(env: Env): TracingConfig | null {
  const disabled = boolean(env, 'OTEL_SDK_DISABLED', false);
  const exporter = oneOf(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none'] as const, 'otlp');
  const base = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const endpoint =
    read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  const protocols = ['http/protobuf', 'http/json'] as const;
  const protocol = oneOf(
    env,
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    protocols,
    oneOf(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', protocols, 'http/protobuf'),
  );
  const headers = {
    ...keyValues(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...keyValues(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const resourceAttributes = keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const serviceName = read(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'chat-gateway';
  const sampler = oneOf(env, 'OTEL_TRACES_SAMPLER', OTEL_SAMPLERS, 'parentbased_always_on');
  const ratioText = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  const samplerRatio = ratioText === undefined ? 1 : Number(ratioText);
  if (!(samplerRatio >= 0 && samplerRatio <= 1)) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${ratioText}"`);
  }
  const batchDelayMs = integer(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000);
  if (disabled || exporter === 'none' || endpoint === undefined) return null;
  try {
    if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error('not http');
  } catch {
    throw new ConfigError(`the OTLP traces endpoint must be an http(s) URL, got "${endpoint}"`);
  }
  return Object.freeze({
    endpoint,
    protocol,
    headers: Object.freeze(headers),
    serviceName,
    resourceAttributes: Object.freeze(resourceAttributes),
    sampler,
    samplerRatio,
    batchDelayMs,
  });
}

function origins(env: Env): string[] {
  const list = (read(env, 'CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS entries must be origins like https://app.example.com or *, got "${origin}"`);
    }
  }
  return list;
}

function redis(env: Env): string | null {
  const url = read(env, 'REDIS_URL');
  if (url === undefined) return null;
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  return url;
}

function alertWebhook(env: Env): AlertWebhookConfig | null {
  const url = read(env, 'ALERT_WEBHOOK_URL');
  const key = secret(env, 'ALERT_WEBHOOK_SECRET', 24);
  if (url === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('ALERT_WEBHOOK_URL must be an http:// or https:// URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError('ALERT_WEBHOOK_URL must be an http:// or https:// URL');
  }
  if (key === null)
    throw new ConfigError('ALERT_WEBHOOK_URL needs ALERT_WEBHOOK_SECRET (24+ characters) to sign alerts');
  return Object.freeze({ url, secret: key, retryMs: integer(env, 'ALERT_WEBHOOK_RETRY_MS', 5000, 100, 3_600_000) });
}

function publicUrl(env: Env): string | null {
  const given = read(env, 'PUBLIC_URL');
  if (given === undefined) return null;
  const parsed = URL.canParse(given) ? new URL(given) : null;
  if (
    !parsed ||
    !/^https?:$/.test(parsed.protocol) ||
    parsed.search ||
    parsed.hash ||
    parsed.username ||
    parsed.password
  ) {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL without query or fragment, got "${given}"`);
  }
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
}

function pricesFile(env: Env, root: string): string | null {
  const given = read(env, 'PRICES_FILE');
  if (given === undefined) return null;
  const file = path.resolve(root, given);
  if (!fs.existsSync(file)) throw new ConfigError(`PRICES_FILE ${file} does not exist`);
  return file;
}

export const DEFAULT_DATABASE_URL = 'file:./data/chat-gateway.db';

/**
 * `postgresql://` (or `postgres://`) selects PostgreSQL. A SQLite URL is `file:` and a path; a
 * relative path is resolved against the project root (not the working directory), so the CLI,
 * the server and the tests all open the same file.
 */
function database(env: Env, root: string): DatabaseConfig {
  const url = read(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL;
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError('DATABASE_URL is not a valid postgresql:// URL');
    }
    return {
      provider: 'postgresql',
      url,
      poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
      // Prisma's own switch for a pooler that cannot keep prepared statements, honoured as the default.
      preparedStatements: boolean(
        env,
        'DATABASE_PREPARED_STATEMENTS',
        new URL(url).searchParams.get('pgbouncer') !== 'true',
      ),
    };
  }
  if (!url.startsWith('file:')) {
    throw new ConfigError(`DATABASE_URL must be a postgresql:// URL or a SQLite file: URL, got "${url}"`);
  }
  const given = url.slice('file:'.length).replace(/\?.*$/, '');
  if (given === '') throw new ConfigError('DATABASE_URL names no file');
  const file = path.resolve(root, given);
  return { provider: 'sqlite', url: `file:${file}`, file };
}

/** Reads and checks every setting from `env` (index.ts passes process.env); throws ConfigError on a bad one. */
export function loadConfig(env: Env): Config {
  const root = projectRoot();
  const nodeEnv = read(env, 'NODE_ENV') ?? 'development';
  const isProduction = nodeEnv === 'production';
  return Object.freeze({
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: read(env, 'HOST') ?? '127.0.0.1',
    nodeEnv,
    isProduction,
    database: Object.freeze(database(env, root)),
    adminApiKey: read(env, 'ADMIN_API_KEY') ?? null,
    metricsToken: secret(env, 'METRICS_TOKEN', 16),
    enableDebugRoutes: boolean(env, 'ENABLE_DEBUG_ROUTES', !isProduction),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    maxMessageLength: integer(env, 'MAX_MESSAGE_LENGTH', 100_000, 1, MAX_MESSAGE_LENGTH_LIMIT),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    importMaxBytes: integer(env, 'IMPORT_MAX_BYTES', 50 * 1_048_576, 1024, 1024 * 1_048_576),
    corsOrigins: Object.freeze(origins(env)),
    emptyChatGraceSeconds: integer(env, 'EMPTY_CHAT_GRACE_SECONDS', 0, 0, 86_400),
    retentionDays: integer(env, 'RETENTION_DAYS', 0, 0, MAX_RETENTION_DAYS) || null,
    retentionSweepSeconds: integer(env, 'RETENTION_SWEEP_INTERVAL_SECONDS', 3600, 0, 7 * 86_400),
    publicUrl: publicUrl(env),
    alertWebhook: alertWebhook(env),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    heapGrowthPercent: integer(env, 'HEAP_GROWTH_PERCENT', 50, 5, 300),
    gcConcurrentMarking: oneOf(env, 'GC_CONCURRENT_MARKING', ['auto', 'on', 'off'] as const, 'auto'),
    auth: Object.freeze(auth(env)),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 0, 0, 1_000_000),
    redisUrl: redis(env),
    redisPrefix: read(env, 'REDIS_PREFIX') ?? 'chat-gateway:',
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    restNodePath: boolean(env, 'REST_NODE_PATH', true),
    restCompiledExecution: boolean(env, 'REST_COMPILED_EXECUTION', true),
    restDirectReads: boolean(env, 'REST_DIRECT_READS', true),
    graphqlDirectReads: boolean(env, 'GRAPHQL_DIRECT_READS', true),
    graphqlNodePath: boolean(env, 'GRAPHQL_NODE_PATH', true),
    graphqlCompileAfter: integer(env, 'GRAPHQL_COMPILE_AFTER', 2, 0, 1_000_000),
    webConcurrency: integer(env, 'WEB_CONCURRENCY', 1, 1, 256),
    enableGraphiql: boolean(env, 'ENABLE_GRAPHIQL', !isProduction),
    enableIntrospection: boolean(env, 'ENABLE_INTROSPECTION', !isProduction),
    graphqlMaxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 12, 4, 100),
    graphqlMaxComplexity: integer(env, 'GRAPHQL_MAX_COMPLEXITY', 20_000, 10, 10_000_000),
    maxMessagesPerRead: integer(env, 'MAX_MESSAGES_PER_READ', 1000, 1, 100_000),
    requestDeadlineMs: integer(env, 'REQUEST_DEADLINE_MS', 10_000, 0, 600_000),
    pricesFile: pricesFile(env, root),
    sseMaxQueuedEvents: integer(env, 'SSE_MAX_QUEUED_EVENTS', 1000, 1, 1_000_000),
    sseMaxStreams: integer(env, 'SSE_MAX_STREAMS', 1000, 1, 1_000_000),
    sseMaxStreamsPerCaller: integer(env, 'SSE_MAX_STREAMS_PER_CALLER', 20, 1, 1_000_000),
    prismaPatches: Object.freeze(prismaPatches(env)),
    tracing: tracing(env),
  });
}
