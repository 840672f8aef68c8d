// Exceptions that escape a plugin hook (outside GraphQL execution, which Yoga masks itself) must
// still answer JSON, with the security headers, logged once with the request id; never a stack.
import fs from 'node:fs';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { withErrorGuard } from '../../src/http/errors-guard';
import { createLogger, logStream } from '../../src/http/logging';
import { createMetrics } from '../../src/http/metrics';
import { gateway } from '../support/gateway';
import { readReply } from '../support/http';

let lines: string[];
beforeEach(() => {
  lines = [];
  jest.spyOn(logStream, 'write').mockImplementation((line: string) => lines.push(line) > 0);
});
afterEach(() => jest.restoreAllMocks());

const errorLines = () => lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error' || l.level === 'fatal');

function expectGuarded(r: Awaited<ReturnType<typeof readReply>>, path: string, secret: RegExp) {
  expect(r.status).toBe(500);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  expect(r.headers.get('x-frame-options')).toBe('DENY');
  expect(r.text).not.toMatch(secret);
  expect(r.text).not.toMatch(/\bat \S+ \(|\/work\/|node_modules/);
  const errors = errorLines();
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ req_id: r.headers.get('x-request-id'), path });
  expect(errors[0].err.stack).toMatch(secret);
}

describe('the real gateway', () => {
  it('answers a failing docs asset read (a hook, not GraphQL) with a JSON 500, logged', async () => {
    jest.spyOn(fs, 'readFileSync').mockImplementation(() => {
      throw Object.assign(new Error("ENOENT: no such file or directory, open '/srv/secret/swagger-ui.css'"), {
        code: 'ENOENT',
      });
    });
    const r = await readReply(await gateway().yoga.fetch('http://localhost/docs/swagger-ui.css'));
    expect(r.json).toEqual({ detail: 'Internal Server Error' });
    expectGuarded(r, '/docs/swagger-ui.css', /ENOENT|\/srv\/secret/);
    expect(errorLines()[0]).toMatchObject({ method: 'GET' });
  });
});

describe('withErrorGuard around an app whose hooks throw', () => {
  const throwing: Plugin = {
    onRequest({ url }) {
      if (url.pathname === '/boom' || url.searchParams.has('boom')) throw new Error('boom in /srv/secret/hook.ts');
      if (url.pathname === '/string') throw 'a bare string from /srv/secret';
    },
    onResponse({ request }) {
      if (new URL(request.url).pathname === '/late') throw new Error('late boom in /srv/secret/hook.ts');
    },
  };
  const app = createYoga({
    schema: createSchema({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } }),
    logging: false,
    landingPage: false,
    plugins: [throwing],
  });
  const guarded = withErrorGuard(app, {
    graphqlEndpoint: '/graphql',
    logger: createLogger('info'),
    metrics: createMetrics(),
  });
  const fetchGuarded = async (path: string, init: RequestInit = {}) =>
    readReply(await guarded.fetch(`http://localhost${path}`, init));

  it('answers {"detail"} for an exception in onRequest', async () => {
    const r = await fetchGuarded('/boom', { method: 'POST' });
    expect(r.json).toEqual({ detail: 'Internal Server Error' });
    expectGuarded(r, '/boom', /boom in/);
    expect(errorLines()[0]).toMatchObject({ method: 'POST' });
  });

  it('answers a GraphQL-shaped 500 on the GraphQL endpoint', async () => {
    const r = await fetchGuarded('/graphql?boom=1&query={ok}');
    expect(r.json).toEqual({
      errors: [{ message: 'Internal Server Error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    expectGuarded(r, '/graphql', /boom in/);
  });

  it('answers {"detail"} for an exception in onResponse, and for a thrown non-Error', async () => {
    expectGuarded(await fetchGuarded('/late'), '/late', /late boom/);
    lines.length = 0;
    const r = await fetchGuarded('/string');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ detail: 'Internal Server Error' });
    expect(r.text).not.toMatch(/secret/);
    expect(errorLines()).toHaveLength(1);
  });

  it('lets everything else through untouched', async () => {
    const r = await fetchGuarded('/graphql?query={ok}');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ data: { ok: true } });
    expect(errorLines()).toHaveLength(0);
  });
});
