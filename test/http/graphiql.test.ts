import { brotliDecompressSync } from 'node:zlib';
import { GRAPHIQL_ASSETS, GRAPHIQL_CSP } from '../../src/http/graphiql';
import { call } from '../support/http';

const page = () => call('GET', '/graphql', undefined, { accept: 'text/html' });

describe('GraphiQL: a small page and cacheable files', () => {
  it('the page is under 2 KB and loads its scripts and styles as files', async () => {
    const r = await page();
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.body.byteLength).toBeLessThan(2048);
    expect(r.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    const sources = [...r.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(
      expect.arrayContaining([`${GRAPHIQL_ASSETS}graphiql.css`, `${GRAPHIQL_ASSETS}graphiql.js`]),
    );
    // The boot script is this repository's own: its name carries its hash.
    expect(sources.some((s) => /\/boot\.[0-9a-f]{12}\.js$/.test(s as string))).toBe(true);
    expect((await call('GET', `${GRAPHIQL_ASSETS}boot.js`)).status).toBe(404);
    // Yoga's options (the endpoint) reach the page, escaped for an attribute.
    expect(r.text).toMatch(/data-options="\{&quot;/);
    for (const source of sources) {
      const file = await call('GET', source as string);
      expect([source, file.status]).toEqual([source, 200]);
    }
  });

  it.each([
    ['graphiql.js', /^text\/javascript/],
    ['graphiql.css', /^text\/css/],
    ['editor.worker.js', /^text\/javascript/],
    ['json.worker.js', /^text\/javascript/],
    ['graphql.worker.js', /^text\/javascript/],
  ])('%s is cached for good under a versioned path, with an ETag', async (name, type) => {
    const r = await call('GET', `${GRAPHIQL_ASSETS}${name}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(type);
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(r.body.byteLength).toBeGreaterThan(1000);

    const again = await call('GET', `${GRAPHIQL_ASSETS}${name}`, undefined, { 'if-none-match': etag as string });
    expect(again.status).toBe(304);
    expect(again.body.byteLength).toBe(0);
    expect(again.headers.get('etag')).toBe(etag);
  });

  it('the bundle is sent compressed, as its own representation with its own ETag', async () => {
    const plain = await call('GET', `${GRAPHIQL_ASSETS}graphiql.js`);
    const packed = await call('GET', `${GRAPHIQL_ASSETS}graphiql.js`, undefined, { 'accept-encoding': 'gzip, br' });
    expect(packed.headers.get('content-encoding')).toBe('br');
    expect(packed.headers.get('vary')).toBe('Accept-Encoding');
    expect(packed.headers.get('etag')).not.toBe(plain.headers.get('etag'));
    expect(packed.body.byteLength).toBeLessThan(plain.body.byteLength / 3);
    expect(brotliDecompressSync(packed.body).equals(plain.body)).toBe(true);
    // The validator of one encoding does not stand for the other.
    const other = await call('GET', `${GRAPHIQL_ASSETS}graphiql.js`, undefined, {
      'accept-encoding': 'br',
      'if-none-match': plain.headers.get('etag') as string,
    });
    expect(other.status).toBe(200);
  });

  it('files that do not exist, and other versions, are 404s', async () => {
    for (const path of [`${GRAPHIQL_ASSETS}nope.js`, `${GRAPHIQL_ASSETS}constructor`, '/graphiql/0.0.0/graphiql.js']) {
      const r = await call('GET', path);
      expect([path, r.status]).toEqual([path, 404]);
    }
  });

  it("Swagger UI's files carry an ETag and answer a matching request with 304", async () => {
    const r = await call('GET', '/docs/swagger-ui-bundle.js');
    expect(r.status).toBe(200);
    const etag = r.headers.get('etag') as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await call('GET', '/docs/swagger-ui-bundle.js', undefined, { 'if-none-match': `"other", ${etag}` });
    expect(again.status).toBe(304);
  });
});
