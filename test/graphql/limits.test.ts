import { schema } from '../../src/graphql/schema';
import { compileRoutes } from '../../src/rest/compile';
import { configureGateway, testConfig } from '../support/gateway';
import { call, gql } from '../support/http';
import { SMALL_LIMITS } from '../support/settings';

configureGateway(SMALL_LIMITS);

const admin = { 'x-admin-api-key': 'test-admin-key' };

describe('GraphQL depth limit (GRAPHQL_MAX_DEPTH=5)', () => {
  it('refuses a deep query over the schema’s cycles with BAD_USER_INPUT, before running it', async () => {
    const deep = '{ chats { user { chats { user { chats { user { chats { chat_id } } } } } } } }';
    const r = await gql(deep, {}, admin);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.json.errors[0].message).toMatch(/too deep/);
    expect((await gql('{ chats { user { chats { chat_id } } } }', {}, admin)).json.errors).toBeUndefined();
  });

  it('cannot be reached over REST: every route’s fixed selection is shallower than the lowest allowed limit (4)', () => {
    const depth = (selections: readonly { selectionSet?: { selections: readonly unknown[] } }[]): number =>
      Math.max(
        ...selections.map((s) => 1 + (s.selectionSet ? depth(s.selectionSet.selections as typeof selections) : 0)),
      );
    const depths = compileRoutes(schema, testConfig(SMALL_LIMITS)).map(
      (route) => 1 + depth(route.selectionSet.selections as never),
    );
    expect(Math.max(...depths)).toBe(3); // GET /chats/{id}: chat { messages { content } }
    expect(Math.max(...depths)).toBeLessThan(4);
  });
});

describe('body size (MAX_BODY_BYTES=2048)', () => {
  it('is 413 on REST and on /graphql', async () => {
    const big = 'x'.repeat(3000);
    const rest = await call('POST', '/chats/users', { username: big, email: 'big@example.com' }, admin);
    expect(rest.status).toBe(413);
    const graphql = await call('POST', '/graphql', { query: `{ chats { chat_id } } # ${big}` }, admin);
    expect(graphql.status).toBe(413);
  });
});

describe('introspection and GraphiQL off', () => {
  it('refuses introspection', async () => {
    const r = await gql('{ __schema { types { name } } }', {}, admin);
    expect(r.json.errors[0].message).toMatch(/introspection/i);
  });

  it('gives no "Did you mean" hints that would spell out the schema', async () => {
    const misspelt: [string, Record<string, unknown>?][] = [
      ['{ chatz { chat_id } }'], // field
      ['{ chats(limt: 1) { chat_id } }'], // argument
      ['{ chats { chat_idd } }'], // field of an object type
      ['mutation { add_message(chat_id: 1, content: "x", sender: usr) { message_id } }'], // enum literal
      ['mutation($s: Sender!) { add_message(chat_id: 1, content: "x", sender: $s) { message_id } }', { s: 'usr' }],
      ['query($c: Int!) { chat(chat_id: $c) { chat_id } } query Other($x: Snder) { chats { chat_id } }'], // type
    ];
    for (const [query, variables] of misspelt) {
      const r = await gql(query, variables, admin);
      expect(r.json.errors.length).toBeGreaterThan(0);
      for (const error of r.json.errors) expect(error.message).not.toMatch(/did you mean/i);
    }
  });

  it('serves no playground', async () => {
    const r = await call('GET', '/graphql', undefined, { accept: 'text/html', ...admin });
    expect(r.text).not.toMatch(/graphiql/i);
  });
});

describe('headers', () => {
  it('sends secure defaults', async () => {
    const r = await call('GET', '/chats/', undefined, admin);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('answers CORS only for the configured origin', async () => {
    const allowed = await call('OPTIONS', '/chats/', undefined, {
      origin: 'https://app.example.com',
      'access-control-request-method': 'GET',
      ...admin,
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    // Another origin never gets itself (or *) back, so browsers refuse to hand it the response.
    const other = await call('GET', '/chats/', undefined, { origin: 'https://evil.example.com', ...admin });
    expect(other.headers.get('access-control-allow-origin')).not.toMatch(/evil|\*/);
  });

  it('lets a configured origin send the admin key', async () => {
    const preflight = await call('OPTIONS', '/chats/cleanup-empty', undefined, {
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-admin-api-key',
    });
    expect(preflight.headers.get('access-control-allow-headers')?.split(/,\s*/)).toEqual(
      expect.arrayContaining(['content-type', 'x-admin-api-key']),
    );
  });

  it('takes cross-site writes from a configured origin only', async () => {
    const crossSite = (origin: string) => ({ 'sec-fetch-site': 'cross-site', origin, ...admin });
    const allowed = await call('POST', '/chats/', {}, crossSite('https://app.example.com'));
    expect(allowed.status).toBe(200);
    const refused = await call('POST', '/chats/', {}, crossSite('https://evil.example.com'));
    expect(refused.status).toBe(403);
    expect(typeof refused.json.detail).toBe('string');
  });
});
