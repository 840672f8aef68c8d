import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, projectRoot } from '../src/config';

describe('loadConfig', () => {
  it('has working defaults: port 4000 on loopback, a SQLite file under ./data, debug routes on', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 4000, host: '127.0.0.1', adminApiKey: null, enableDebugRoutes: true });
    expect(c.database).toMatchObject({ provider: 'sqlite', file: path.join(projectRoot(), 'data', 'chat-gateway.db') });
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.requestTimeoutMs).toBe(30_000);
  });

  it('resolves a relative SQLite path against the project root, not the working directory', () => {
    expect(loadConfig({ DATABASE_URL: 'file:./tmp/x.db' }).database).toMatchObject({
      file: path.join(projectRoot(), 'tmp', 'x.db'),
    });
    expect(loadConfig({ DATABASE_URL: 'file:/var/lib/x.db' }).database).toMatchObject({ file: '/var/lib/x.db' });
  });

  it('turns debug routes off by default in production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).enableDebugRoutes).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', ENABLE_DEBUG_ROUTES: 'true' }).enableDebugRoutes).toBe(true);
    expect(loadConfig({ ENABLE_DEBUG_ROUTES: 'false' }).enableDebugRoutes).toBe(false);
  });

  it('reads PUBLIC_URL as an http(s) base without a trailing slash', () => {
    expect(loadConfig({}).publicUrl).toBeNull();
    expect(loadConfig({ PUBLIC_URL: 'https://chat.example.com/' }).publicUrl).toBe('https://chat.example.com');
    expect(loadConfig({ PUBLIC_URL: 'http://localhost:4000/api//' }).publicUrl).toBe('http://localhost:4000/api');
  });

  it.each([
    ['PUBLIC_URL', 'chat.example.com'],
    ['PUBLIC_URL', 'ftp://chat.example.com'],
    ['PUBLIC_URL', 'https://chat.example.com/?a=1'],
    ['PUBLIC_URL', 'https://user:pw@chat.example.com'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_URL', 'file:'],
    ['ENABLE_DEBUG_ROUTES', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['MAX_MESSAGE_LENGTH', '0'],
    ['HEAP_GROWTH_PERCENT', '0'],
    ['HEAP_GROWTH_PERCENT', 'lots'],
    ['REQUEST_TIMEOUT_MS', '999'],
    ['REQUEST_TIMEOUT_MS', 'forever'],
    ['MAX_MESSAGES_PER_READ', '0'],
    ['REQUEST_DEADLINE_MS', '-1'],
    ['REQUEST_DEADLINE_MS', '10s'],
  ])('stops with a clear message on %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('.env.example', () => {
  const root = projectRoot();
  const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
  /** Every `NAME=` in the file, set or commented out. */
  const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  /** The values it sets (uncommented lines). */
  const values = Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));

  it('lists every setting src/config.ts reads', () => {
    const source = fs.readFileSync(path.join(root, 'src', 'config.ts'), 'utf8');
    const read = [...source.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(30);
    expect(read.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('holds the defaults: loading it gives the same configuration as an empty environment', () => {
    expect(Object.keys(values).length).toBeGreaterThan(20);
    expect(loadConfig(values)).toEqual(loadConfig({}));
  });
});
