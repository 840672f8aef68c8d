import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../../src/config';
import { usePostgres } from '../support/databases';
import { startGateway, stopGateway } from '../support/gateway-process';

/*
 * Tracing against a small OTLP/HTTP receiver started here: what a collector would receive.
 */

type Received = { path: string; contentType: string; body: Buffer };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
};

/** An OTLP/HTTP receiver: it keeps every export and answers 200 as a collector does. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every span of the JSON exports received so far, with its resource's service name. */
function spansOf(received: Received[]): (OtlpSpan & { service: string })[] {
  return received.flatMap((r) => {
    const body = JSON.parse(r.body.toString('utf8')) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: OtlpSpan[] }[];
      }[];
    };
    return body.resourceSpans.flatMap((rs) => {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ ...span, service })));
    });
  });
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

async function until<T>(what: string, get: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set), as a collector receives it', () => {
  // The real process: the OTLP exporter loads Node's http module with a dynamic import(), which
  // Jest's module sandbox cannot run, so in-process gateways could not export at all.
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let base: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    gateway = await startGateway({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'gateway-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    });
    base = gateway.url;
  });

  afterAll(async () => {
    await stopGateway(gateway);
    await receiver.close();
  });

  it('continues the caller’s traceparent through the request, its operation and each SQL statement', async () => {
    const created = await fetch(`${base}/chats/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.json() as Promise<{ chat_id: number }>);
    const res = await fetch(`${base}/chats/${created.chat_id}`, {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    });
    expect(res.status).toBe(200);

    const spans = await until('the read’s spans', () => {
      const found = spansOf(receiver.received).filter((s) => s.traceId === TRACE_ID);
      return found.some((s) => s.name === 'SELECT') && found.some((s) => s.kind === 2) ? found : undefined;
    });
    const request = spans.find((s) => s.kind === 2) as OtlpSpan & { service: string };
    expect(request.name).toBe('GET /chats/:chat_id');
    expect(request.parentSpanId).toBe(PARENT_ID);
    expect(request.service).toBe('gateway-under-test');
    expect(attribute(request, 'http.route')).toBe('/chats/:chat_id');
    expect(attribute(request, 'http.request.method')).toBe('GET');
    expect(Number(attribute(request, 'http.response.status_code'))).toBe(200);

    const operation = spans.find((s) => s.name === 'query chat') as OtlpSpan;
    expect(operation.parentSpanId).toBe(request.spanId);
    expect(attribute(operation, 'graphql.operation.name')).toBe('chat');

    const statements = spans.filter((s) => s.name === 'SELECT');
    expect(statements.length).toBeGreaterThanOrEqual(1);
    for (const statement of statements) {
      expect(statement.parentSpanId).toBe(operation.spanId);
      expect(statement.kind).toBe(3);
      expect(attribute(statement, 'db.system.name')).toBe(usePostgres ? 'postgresql' : 'sqlite');
      expect(String(attribute(statement, 'db.query.text'))).toMatch(/^SELECT/i);
    }

    // The request's log line names the trace and the span.
    const logged = gateway
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'request' && line.trace_id === TRACE_ID);
    expect(logged).toMatchObject({ path: `/chats/${created.chat_id}`, span_id: request.spanId, status: 200 });
  });

  it('names a GraphQL request’s span by its operation, and starts a new trace without a traceparent', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query RecentChats { chats(limit: 1) { chat_id } }' }),
    });
    expect(res.status).toBe(200);
    const operation = await until('the operation’s span', () =>
      spansOf(receiver.received).find((s) => s.name === 'query RecentChats'),
    );
    const request = spansOf(receiver.received).find((s) => s.spanId === operation.parentSpanId) as OtlpSpan;
    expect(request.name).toBe('POST /graphql');
    expect(request.traceId).not.toBe(TRACE_ID);
    expect(request.parentSpanId ?? '').toBe('');
  });

  it('marks the span of an operation that failed as an error', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Missing { chat(chat_id: 999999) { chat_id } }' }),
    });
    expect(res.status).toBe(200);
    const operation = await until('the failing operation’s span', () =>
      spansOf(receiver.received).find((s) => s.name === 'query Missing'),
    );
    expect(operation.status?.code).toBe(2);
  });
});

describe('tracing settings', () => {
  it('is off by default, and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(loadConfig({}).tracing).toBeNull();
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
    expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeNull();
    expect(loadConfig(endpoint).tracing).toMatchObject({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'chat-gateway',
      sampler: 'parentbased_always_on',
    });
  });

  it('reads the standard variables, the signal-specific ones first', () => {
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/v1/traces',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x-team=chat',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=traces',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-attributes',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    expect(tracing).toMatchObject({
      endpoint: 'https://traces.example/v1/traces',
      headers: { 'api-key': 'abc def', 'x-team': 'traces' },
      serviceName: 'from-attributes',
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /http\(s\) URL/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '2' }, /0 to 1/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /PROTOCOL/],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' }, /key=value/],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'x-key=a%0Ab' }, /control character/],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'bad header=v' }, /not a valid name/],
  ])('refuses %p at start-up', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('tracing in the real process', () => {
  it('does not hold the shutdown for a collector that never answers', async () => {
    // Accepts connections and never answers them.
    const sockets: import('node:net').Socket[] = [];
    const silent = (await import('node:net')).createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const gateway = await startGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '600000' });
    try {
      expect((await fetch(`${gateway.url}/chats/?limit=1`)).status).toBe(200);
      const started = Date.now();
      await stopGateway(gateway);
      expect(await gateway.exited).toBe(0);
      // The flush waits TRACING_SHUTDOWN_MS (2 s) at most, not the exporter's 10 s.
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      await stopGateway(gateway);
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('logs that spans could not be exported when the collector refuses them', async () => {
    const refusing = createServer((_req, res) => res.writeHead(401).end('{"error":"bad key"}'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const gateway = await startGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '20' });
    try {
      expect((await fetch(`${gateway.url}/chats/?limit=1`)).status).toBe(200);
      await until('the warning', () =>
        /tracing: spans could not be exported/.test(gateway.output()) ? true : undefined,
      );
    } finally {
      await stopGateway(gateway);
      refusing.close();
    }
  });

  it('exports protobuf by default, and sends what is buffered when it stops', async () => {
    const receiver = await startReceiver();
    // A long batch delay: only the shutdown can send these spans.
    const gateway = await startGateway({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    try {
      const res = await fetch(`${gateway.url}/chats/?limit=1`, {
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
      });
      expect(res.status).toBe(200);
      expect(receiver.received).toEqual([]);
      await stopGateway(gateway);
      const exported = await until('the export at shutdown', () => receiver.received[0]);
      expect(exported.path).toBe('/v1/traces');
      expect(exported.contentType).toBe('application/x-protobuf');
      // The trace id travels as its 16 bytes.
      expect(exported.body.includes(Buffer.from(TRACE_ID, 'hex'))).toBe(true);
    } finally {
      await stopGateway(gateway);
      await receiver.close();
    }
  });
});
