import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { DatabaseConfig, TracingConfig } from '../config';
import type { Logger } from './logging';

/*
 * OpenTelemetry tracing (TRACING in the README): one server span per HTTP request, continuing the
 * caller's W3C `traceparent`; under it a span for the GraphQL operation (REST routes run one too),
 * and under that one span per SQL statement. Spans go over OTLP/HTTP to the configured endpoint,
 * in batches. Each gateway has its own provider and passes parents explicitly (no global context
 * manager, nothing registered process-wide): the request's trace rides on its log fields
 * (http/logging.ts), which every layer already reaches.
 */

/** The trace of one request, kept on its log fields. */
export type RequestTrace = {
  readonly traceId: string;
  readonly spanId: string;
  /** Starts the span of the request's GraphQL operation; the statements run until it ends are its children. */
  operation(type: string, name: string): (errorCount: number) => void;
  /** A finished SQL statement, as the database client reports it. */
  query(sql: string, startedAt: Date, durationMs: number): void;
  /** Ends the request's span with its answer. */
  end(status: number, route: string): void;
};

export type Tracing = {
  /** Starts a request's server span; `header` reads its headers (`traceparent`, `tracestate`). */
  begin(method: string, path: string, header: (name: string) => string | null | undefined): RequestTrace;
  /** Sends what is buffered (waiting TRACING_SHUTDOWN_MS at most) and stops. */
  shutdown(): Promise<void>;
};

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

const STATEMENT = /^\s*(\w+)/;

/** How long a shutdown waits for buffered spans to be sent: a collector that hangs must not hold the exit. */
export const TRACING_SHUTDOWN_MS = 2000;
/** How often a failing export is logged: once, then at most every minute while it keeps failing. */
const EXPORT_FAILURE_LOG_MS = 60_000;

/**
 * The OTLP exporter, saying in the log when exports fail (a collector refusing them, a wrong
 * endpoint or API key): the SDK itself reports nothing unless a global diagnostic logger is set.
 */
function loggingExporter(inner: SpanExporter, logger: Pick<Logger, 'warn'>, endpoint: string): SpanExporter {
  let lastLogged = 0;
  let failures = 0;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          failures++;
          if (Date.now() - lastLogged >= EXPORT_FAILURE_LOG_MS) {
            lastLogged = Date.now();
            logger.warn({ err: result.error, endpoint, failures }, 'tracing: spans could not be exported');
          }
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

export function createTracing(
  config: TracingConfig,
  {
    database,
    version,
    logger,
  }: { database: DatabaseConfig['provider']; version: string; logger: Pick<Logger, 'warn'> },
): Tracing {
  const Exporter = config.protocol === 'http/json' ? JsonExporter : ProtobufExporter;
  const exporter = loggingExporter(
    new Exporter({ url: config.endpoint, headers: { ...config.headers } }),
    logger,
    config.endpoint,
  );
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName,
      'service.version': version,
    }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.batchDelayMs })],
  });
  const tracer = provider.getTracer('chat-gateway', version);
  const propagator = new W3CTraceContextPropagator();

  return {
    begin(method, path, header) {
      const parent = propagator.extract(ROOT_CONTEXT, header, {
        get: (read, key) => read(key) ?? undefined,
        keys: () => [],
      });
      const span = tracer.startSpan(
        method,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': method, 'url.path': path, 'url.scheme': 'http' },
        },
        parent,
      );
      const requestContext = trace.setSpan(ROOT_CONTEXT, span);
      let current: Span = span;
      const { traceId, spanId } = span.spanContext();
      return {
        traceId,
        spanId,
        operation(type, name) {
          const operation = tracer.startSpan(
            `${type} ${name}`,
            { attributes: { 'graphql.operation.type': type, 'graphql.operation.name': name } },
            requestContext,
          );
          current = operation;
          return (errorCount) => {
            if (errorCount > 0) operation.setStatus({ code: SpanStatusCode.ERROR, message: `${errorCount} error(s)` });
            operation.end();
            current = span;
          };
        },
        query(sql, startedAt, durationMs) {
          const statement = STATEMENT.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
          tracer
            .startSpan(
              statement,
              {
                kind: SpanKind.CLIENT,
                startTime: startedAt,
                attributes: { 'db.system.name': database, 'db.operation.name': statement, 'db.query.text': sql },
              },
              trace.setSpan(ROOT_CONTEXT, current),
            )
            .end(new Date(startedAt.getTime() + durationMs));
        },
        end(status, route) {
          span.updateName(`${method} ${route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, TRACING_SHUTDOWN_MS);
      });
      await Promise.race([provider.shutdown().catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
  };
}
