import { call } from '../support/http';

describe('GET / and the favicon', () => {
  it('GET / is a small page linking every page of the service', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    for (const href of ['/graphql', '/docs', '/openapi.json', '/health', '/ready', '/metrics']) {
      expect(r.text).toContain(`href="${href}"`);
    }
    expect(r.text.length).toBeLessThan(4096);
    // Every link on it answers.
    for (const href of ['/docs', '/openapi.json', '/health', '/ready', '/metrics']) {
      expect([href, (await call('GET', href)).status]).toEqual([href, 200]);
    }
  });

  it('GET /favicon.ico is an icon browsers may cache', async () => {
    const r = await call('GET', '/favicon.ico');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/x-icon');
    expect(r.headers.get('cache-control')).toMatch(/max-age=\d+/);
  });

  it('other methods on / are not served as the page', async () => {
    const r = await call('POST', '/', {});
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json).toHaveProperty('detail');
  });
});
