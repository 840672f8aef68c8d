import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/*
 * The gateway's metrics, served at `GET /metrics` in Prometheus' text format (prom-client):
 *
 *  - what degrades rather than fails: dependency errors, subscribers cut off, streams refused and
 *    open, unhandled rejections, requests refused because the database was unreachable;
 *  - every response, by route (the REST route's template, `/graphql`, or an operational page),
 *    GraphQL operation, method and status, as a latency histogram;
 *  - GraphQL errors by `extensions.code`, on both surfaces;
 *  - each SQL statement's latency, by kind (SELECT, INSERT, ...);
 *  - what the service is for: messages written, model tokens and cost by model and provider;
 *  - Node's own: CPU, memory, event-loop lag, garbage collection, handles (prom-client's defaults).
 *
 * Each gateway has its own registry, so two gateways in one process do not mix their numbers.
 * Label values come from code or from bounded sets (routes, error codes, priced models); the
 * one value a client chooses, a GraphQL operation's name, is kept to MAX_OPERATION_NAMES names.
 */

const PREFIX = 'chat_gateway_';

const COUNTERS = {
  dependency_errors_total: {
    help: 'Failed calls to an external dependency that the service survived (by dependency and operation).',
    labels: ['dependency', 'operation'],
  },
  subscribers_cut_off_total: {
    help: 'Subscriptions ended because their client fell SSE_MAX_QUEUED_EVENTS events behind.',
    labels: [],
  },
  streams_refused_total: { help: 'Subscriptions refused by the stream caps (by scope).', labels: ['scope'] },
  unhandled_rejections_total: { help: 'Promise rejections nothing handled (logged; a bug).', labels: [] },
  database_unavailable_total: {
    help: 'Requests answered 503 because the database could not be reached.',
    labels: [],
  },
  graphql_errors_total: {
    help: 'GraphQL errors in answers, REST and /graphql, by extensions.code.',
    labels: ['code'],
  },
  graphql_direct_reads_total: {
    help: '/graphql queries answered straight from SQL (served), left to the executor (declined), or whose SQL or stored values could not be read (failed: then answered by the executor, or SERVICE_UNAVAILABLE when the database is unreachable), by field.',
    labels: ['field', 'outcome'],
  },
  messages_written_total: { help: 'Messages added to chats, by sender.', labels: ['sender'] },
  model_tokens_total: {
    help: 'Model tokens recorded in the usage ledger, by model, provider and kind (prompt, completion).',
    labels: ['model', 'provider', 'kind'],
  },
  model_cost_usd_total: {
    help: 'Model cost recorded in the usage ledger, in US dollars, by model and provider.',
    labels: ['model', 'provider'],
  },
  rest_direct_reads_total: {
    help: 'REST reads answered straight from SQL (served), left to their GraphQL operation (declined), or whose SQL or stored values could not be read (failed: then answered by the operation, or 503 when the database is unreachable), by route.',
    labels: ['route', 'outcome'],
  },
  retention_chats_deleted_total: {
    help: 'Chats the retention sweep deleted for inactivity (their model usage is kept).',
    labels: [],
  },
} as const;

const GAUGES = {
  streams_open: { help: 'Subscriptions (SSE streams) open in this process.', labels: [] },
} as const;

export type MetricName = keyof typeof COUNTERS | keyof typeof GAUGES;
type Labels = Record<string, string>;

/** GraphQL operation names a process labels series with; later new names count as "other". */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

export type ResponseLabels = { route: string; operation: string; method: string; status: number };

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const counters = new Map<string, Counter>();
  for (const [name, { help, labels }] of Object.entries(COUNTERS)) {
    counters.set(name, new Counter({ name: PREFIX + name, help, labelNames: labels, registers: [registry] }));
  }
  const gauges = new Map<string, Gauge>();
  for (const [name, { help, labels }] of Object.entries(GAUGES)) {
    gauges.set(name, new Gauge({ name: PREFIX + name, help, labelNames: labels, registers: [registry] }));
  }
  const responses = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time from a request’s arrival to its answer, by route, GraphQL operation, method and status.',
    labelNames: ['route', 'operation', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const queries = new Histogram({
    name: `${PREFIX}db_query_duration_seconds`,
    help: 'Time each SQL statement took, as the database driver reports it, by kind (SELECT, INSERT, ...).',
    labelNames: ['statement'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const operationNames = new Set<string>();

  const add = (name: MetricName, delta: number, labels: Labels = {}) => {
    const counter = counters.get(name);
    if (counter) counter.inc(labels, delta);
    else gauges.get(name)?.inc(labels, delta);
  };

  return {
    increment: (name: MetricName, labels?: Labels) => add(name, 1, labels),
    add,
    /** A counter's or gauge's current value, for tests. */
    async value(name: MetricName, labels: Labels = {}): Promise<number> {
      const metric = counters.get(name) ?? gauges.get(name);
      const data = await metric?.get();
      const wanted = Object.entries(labels);
      const found = data?.values.find((v) => wanted.every(([key, value]) => v.labels[key] === value));
      return found?.value ?? 0;
    },
    /** A GraphQL operation's name as a label value: its name while few names have been seen. */
    operationLabel(name: string | null | undefined): string {
      if (!name) return '';
      if (!OPERATION_NAME.test(name)) return 'other';
      if (operationNames.has(name)) return name;
      if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
      operationNames.add(name);
      return name;
    },
    observeResponse({ route, operation, method, status }: ResponseLabels, seconds: number): void {
      responses.observe({ route, operation, method, status: String(status) }, seconds);
    },
    observeQuery(sql: string, milliseconds: number): void {
      const statement = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'OTHER';
      queries.observe({ statement: KNOWN_STATEMENTS.has(statement) ? statement : 'OTHER' }, milliseconds / 1000);
    },
    contentType: registry.contentType,
    /** The Prometheus text exposition of every metric. */
    render: (): Promise<string> => registry.metrics(),
  };
}

const KNOWN_STATEMENTS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'PRAGMA',
  'SAVEPOINT',
  'RELEASE',
]);

export type Metrics = ReturnType<typeof createMetrics>;
