import { buildSchema, GraphQLError, type GraphQLObjectType } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { createGateway, type Gateway } from '../../src/app';
import {
  compiledExecutionStats,
  compileRouteOperations,
  useCompiledExecution,
} from '../../src/graphql/compiled-execution';
import { schema } from '../../src/graphql/schema';
import { compileRoutes } from '../../src/rest/compile';
import { configureGateway, testConfig } from '../support/gateway';
import { addMessage, callFetch, newChat, newUser, type Reply, readReply } from '../support/http';

/*
 * REST routes' operations run compiled by default, and so does a /graphql query once it has run
 * GRAPHQL_COMPILE_AFTER times (src/graphql/compiled-execution.ts). Here the same requests go to
 * this file's gateway (compiling /graphql queries at their first run) and to a second one on the
 * same database that interprets everything with the GraphQL executor, and the answers are
 * compared: status, content type and body, or, for a write, the body with its new ids and times
 * set aside.
 */

// Without direct reads (test/rest/direct-reads.test.ts), so every REST read runs its operation.
// Direct reads off: every query here is the executor's, compiled or interpreted.
configureGateway({ GRAPHQL_COMPILE_AFTER: '1', REST_DIRECT_READS: 'false', GRAPHQL_DIRECT_READS: 'false' });

const ADMIN = { 'x-admin-api-key': 'test-admin-key' };
let interpreted: Gateway;

beforeAll(async () => {
  interpreted = await createGateway(
    testConfig({
      REST_COMPILED_EXECUTION: 'false',
      GRAPHQL_COMPILE_AFTER: '0',
      REST_DIRECT_READS: 'false',
      GRAPHQL_DIRECT_READS: 'false',
    }),
  );
});
afterAll(() => interpreted.close());

async function callInterpreted(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  return readReply(await interpreted.yoga.fetch(`http://localhost${path}`, init));
}

/** What differs from one write to the next: new ids, times and tokens. */
const NEW_VALUES = /(^|_)(id|ids|at|timestamp|token|url)$/;

function comparable(r: Reply, write: boolean) {
  const set = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(set);
    // A refusal names the chat it was about: each gateway wrote to its own.
    if (typeof value === 'string') return value.replace(/\d+/g, 'N');
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, NEW_VALUES.test(k) && v !== null ? typeof v : set(v)]),
    );
  };
  return {
    status: r.status,
    type: r.headers.get('content-type'),
    body: write && r.json !== undefined ? set(r.json) : r.text,
  };
}

async function both(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const runs = compiledExecutionStats.runs;
  const compiled = await callFetch(method, path, body, headers);
  const ranCompiled = compiledExecutionStats.runs > runs;
  const plain = await callInterpreted(method, path, body, headers);
  return { compiled, plain, ranCompiled };
}

describe('compiled REST operations', () => {
  it('compiles every route’s operation', () => {
    const { failed } = compileRouteOperations(schema, compileRoutes(schema, testConfig()));
    expect(failed).toEqual([]);
  });

  it('answers every read as the GraphQL executor does, errors included', async () => {
    const user = await newUser('jit');
    const chat = await newChat(user.user_id);
    const question = await addMessage(chat.chat_id, 'a question', 'user');
    const answer = await addMessage(chat.chat_id, 'an answer', 'ai');
    // A second answer to the same question: a branched chat, read by other queries.
    const branched = await newChat(user.user_id);
    const root = await addMessage(branched.chat_id, 'root', 'user');
    await addMessage(branched.chat_id, 'first', 'ai');
    await callFetch('POST', `/chats/${branched.chat_id}/messages`, {
      content: 'second',
      sender: 'ai',
      parent_id: root.message_id,
    });
    await callFetch('PUT', `/chats/${chat.chat_id}/messages/${answer.message_id}/feedback`, { rating: 'up' });
    const folder = (await callFetch('POST', '/folders', { name: 'jit', user_id: user.user_id })).json;
    await callFetch('PUT', `/chats/${chat.chat_id}?user_id=${user.user_id}`, {
      folder_id: folder.folder_id,
      tags: ['jit'],
      pinned: true,
    });
    const share = (await callFetch('POST', `/chats/${chat.chat_id}/shares`, {})).json;
    const usage = await callFetch('POST', '/usage', {
      user_id: user.user_id,
      chat_id: chat.chat_id,
      model_name: 'gpt-4o',
      prompt_tokens: 10,
      completion_tokens: 5,
    });
    expect(usage.status).toBe(200);
    const budget = (
      await callFetch('PUT', '/budgets', { scope: 'user', user_id: user.user_id, period: 'month', limit_usd: 5 }, ADMIN)
    ).json;

    const reads: [string, Record<string, string>?][] = [
      [`/chats/${chat.chat_id}?user_id=${user.user_id}`],
      [`/chats/${branched.chat_id}`],
      [`/chats/${chat.chat_id}?user_id=${user.user_id + 100000}`],
      ['/chats/99999999'],
      [`/chats/?user_id=${user.user_id}&limit=10`],
      [`/chats/?user_id=${user.user_id}&pinned=true&tag=jit&folder_id=${folder.folder_id}`],
      [`/chats/?user_id=${user.user_id}&limit=1000`],
      [`/chats/search/?q=question&user_id=${user.user_id}`],
      [`/chats/${chat.chat_id}/messages?limit=1&before=${answer.message_id}`],
      [`/chats/${branched.chat_id}/messages`],
      [`/chats/${chat.chat_id}/export`],
      [`/chats/${chat.chat_id}/export?format=markdown`],
      [`/chats/${branched.chat_id}/export?tree=true`],
      [`/chats/${chat.chat_id}/shares`],
      [`/shared/${share.token}`],
      ['/shared/not-a-token'],
      [`/folders?user_id=${user.user_id}`],
      ['/chats/users'],
      [`/users/${user.user_id}/retention`],
      ['/admin/retention/preview', ADMIN],
      [`/usage?user_id=${user.user_id}`],
      [`/usage/summary?user_id=${user.user_id}&from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&group_by=model_name`],
      [`/usage/allowance?user_id=${user.user_id}`],
      ['/budgets', ADMIN],
      [`/budgets/${budget.budget_id}/alerts`, ADMIN],
      ['/budgets'],
    ];
    for (const [path, headers] of reads) {
      const { compiled, plain, ranCompiled } = await both('GET', path, undefined, headers);
      expect({ path, ...comparable(compiled, false) }).toEqual({ path, ...comparable(plain, false) });
      // Each answered read ran compiled (a refusal may come before the operation runs).
      if (compiled.status === 200) expect({ path, ranCompiled }).toEqual({ path, ranCompiled: true });
    }
    expect(question.message_id).toBeLessThan(answer.message_id);
  });

  it('writes as the GraphQL executor does, refusals included', async () => {
    const user = await newUser('jit-write');
    const chats = [await newChat(user.user_id), await newChat(user.user_id)];
    const writes: [string, (chatId: number) => string, unknown?][] = [
      ['POST', (c) => `/chats/${c}/messages`, { content: 'hello', sender: 'user' }],
      ['POST', (c) => `/chats/${c}/messages`, { content: 'hi', sender: 'ai' }],
      ['POST', (c) => `/chats/${c}/messages`, { content: 'x', sender: 'robot' }],
      ['POST', (c) => `/chats/${c}/messages`, { content: 'x', sender: 'user', parent_id: 99999999 }],
      ['PUT', (c) => `/chats/${c}?user_id=${user.user_id}`, { title: 'renamed', pinned: true }],
      ['PUT', (c) => `/chats/${c}?user_id=${user.user_id + 100000}`, { title: 'not theirs' }],
      ['POST', (c) => `/chats/${c}/shares`, { expires_in_days: 3 }],
      ['POST', () => '/chats/', { user_id: user.user_id, title: 'new' }],
      ['DELETE', (c) => `/chats/${c}?user_id=${user.user_id}`],
      ['DELETE', (c) => `/chats/${c}?user_id=${user.user_id}`],
    ];
    for (const [method, path, body] of writes) {
      const runs = compiledExecutionStats.runs;
      const compiled = await callFetch(method, path(chats[0]?.chat_id as number), body);
      if (compiled.status === 200) expect(compiledExecutionStats.runs).toBe(runs + 1);
      const plain = await callInterpreted(method, path(chats[1]?.chat_id as number), body);
      expect({ method, path: path(0), ...comparable(compiled, true) }).toEqual({
        method,
        path: path(0),
        ...comparable(plain, true),
      });
    }
  });

  it('answers /graphql queries as the GraphQL executor does: selections, fragments, variables and errors', async () => {
    const user = await newUser('jit-gql');
    const chat = await newChat(user.user_id);
    const first = await addMessage(chat.chat_id, 'what sold best?', 'user');
    await addMessage(chat.chat_id, 'the blue one', 'ai');
    const other = await newChat(user.user_id);
    await addMessage(other.chat_id, 'root', 'user');
    await callFetch('POST', `/chats/${other.chat_id}/messages`, {
      content: 'an edit',
      sender: 'user',
      parent_id: null,
    });

    const CHAT = `query($c: Int!, $u: Int) { chat(chat_id: $c, user_id: $u) {
      chat_id title created_at user_id branched active_leaf_id message_count last_message_at
      messages { message_id chat_id content sender timestamp parent_id siblings { position count } }
      user { user_id email chats(limit: 3) { chat_id } } } }`;
    const queries: [string, Record<string, unknown>?, Record<string, string>?][] = [
      [CHAT, { c: chat.chat_id, u: user.user_id }],
      [CHAT, { c: other.chat_id }],
      [CHAT, { c: chat.chat_id, u: user.user_id + 100000 }],
      [CHAT, { c: 'seven' }],
      [CHAT, {}],
      [CHAT, { c: 2 ** 40 }],
      [
        `query Named($u: Int, $all: Boolean!) { ...Root }
         fragment Root on Query { chats(user_id: $u, limit: 5) { ...ChatBits
           tree: message_tree(limit: 10) @include(if: $all) { message_id parent_id }
           page: messages_page(first: 1) { edges { cursor node { content } } pageInfo { hasNextPage endCursor } } } }
         fragment ChatBits on Chat { __typename id: chat_id title }`,
        { u: user.user_id, all: true },
      ],
      [
        `query($u: Int) { a: chats(user_id: $u, limit: 1) { chat_id } b: chats(user_id: $u, limit: 2) { chat_id messages(limit: 1) { content } } }`,
        { u: user.user_id },
      ],
      [`query($m: Int!) { message(message_id: $m) { content chat { chat_id } } }`, { m: first.message_id }],
      [`{ search_chats(q: "blue", user_id: ${user.user_id}) { chat { chat_id } messages { content } } }`],
      [`{ users { user_id } }`],
      [`{ users { user_id } }`, {}, ADMIN],
      [`{ chats(limit: 100000) { chat_id } }`],
      [`{ chat(chat_id: 99999999) { chat_id } }`],
      [`{ __schema { queryType { name } } __type(name: "Chat") { fields { name } } }`],
      [`query Two { chats(limit: 1) { chat_id } } query Other { __typename }`],
    ];
    for (const [query, variables, headers] of queries) {
      const body = { query, variables, ...(query.includes('query Two') ? { operationName: 'Two' } : {}) };
      const runs = compiledExecutionStats.runs;
      const compiled = await callFetch('POST', '/graphql', body, headers);
      const ranCompiled = compiledExecutionStats.runs > runs;
      const plain = await callInterpreted('POST', '/graphql', body, headers);
      expect({ query, variables, ...comparable(compiled, false) }).toEqual({
        query,
        variables,
        ...comparable(plain, false),
      });
      // A query that got to execution ran compiled (a refusal may come before: validation, variables).
      if (compiled.json?.data) expect({ query, ranCompiled }).toEqual({ query, ranCompiled: true });
    }
  });

  it('compiles a /graphql query at its GRAPHQL_COMPILE_AFTER-th run, and never a mutation', async () => {
    const second = await createGateway(testConfig({ GRAPHQL_COMPILE_AFTER: '2', GRAPHQL_DIRECT_READS: 'false' }));
    try {
      const post = async (query: string) => {
        const res = await second.yoga.fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        expect(res.status).toBe(200);
        return res.json();
      };
      const query = '{ chats(limit: 1) { chat_id title } }';
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = compiledExecutionStats.runs;
        await post(query);
        runs.push(compiledExecutionStats.runs - before);
      }
      expect(runs).toEqual([0, 1, 1]);
      const before = compiledExecutionStats.runs;
      for (let i = 0; i < 3; i++) await post('mutation { create_chat { chat_id } }');
      expect(compiledExecutionStats.runs).toBe(before);
    } finally {
      await second.close();
    }
  });

  it('answers an operation name that names nothing as the executor does, however often the query ran', async () => {
    const query = '{ chats(limit: 1) { chat_id } }';
    for (let i = 0; i < 2; i++) await callFetch('POST', '/graphql', { query });
    for (const operationName of ['', 'Missing', 'x'.repeat(200)]) {
      const body = { query, operationName };
      const compiled = await callFetch('POST', '/graphql', body);
      const plain = await callInterpreted('POST', '/graphql', body);
      expect(compiled.status).toBe(400);
      expect(comparable(compiled, false)).toEqual(comparable(plain, false));
    }
  });

  it('does not compile a query whose fragments, written out, hold too many fields; the limits refuse it as before', async () => {
    // Each fragment spreads the one before twice: 2^18 fields written out, from a document of 1.5 kB.
    const levels = 18;
    const fragments = ['fragment F0 on Chat { chat_id }'];
    for (let k = 1; k <= levels; k++) {
      fragments.push(
        `fragment F${k} on Chat { a: user { chats(limit: 1) { ...F${k - 1} } } b: user { chats(limit: 1) { ...F${k - 1} } } }`,
      );
    }
    const query = `{ chats(limit: 1) { ...F${levels} } } ${fragments.join(' ')}`;
    const compiledBefore = compiledExecutionStats.compiled;
    const started = performance.now();
    for (let i = 0; i < 3; i++) {
      const compiled = await callFetch('POST', '/graphql', { query });
      const plain = await callInterpreted('POST', '/graphql', { query });
      expect(comparable(compiled, false)).toEqual(comparable(plain, false));
      expect(compiled.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    expect(compiledExecutionStats.compiled).toBe(compiledBefore);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('compiled execution against the executor, on a schema whose fields fail', () => {
  // Failures the real schema cannot produce on purpose: a null for a non-null field, a value its
  // scalar cannot serialize, errors thrown with and without a code. The executor's answers (Yoga
  // masks what is unexpected) are the reference.
  const failing = buildSchema(`
    type Query {
      ok: String
      missing: String!
      notANumber: Float
      coded: String
      unexpected: String
      nested: Inner
    }
    type Inner { missing: String! ok: Int }
  `);
  const resolvers: Record<string, () => unknown> = {
    ok: () => 'fine',
    missing: () => null,
    notANumber: () => 'twelve',
    coded: () => {
      throw new GraphQLError('A chat that is not there', { extensions: { code: 'NOT_FOUND' } });
    },
    unexpected: () => {
      throw new Error('connection string with a password');
    },
    nested: () => ({ missing: null, ok: 1 }),
  };
  for (const [name, field] of Object.entries((failing.getQueryType() as GraphQLObjectType).getFields())) {
    field.resolve = resolvers[name];
  }
  const yogaWith = (plugins: Plugin[]) => createYoga({ schema: failing, plugins, logging: false });
  const compiled = yogaWith([useCompiledExecution({ routes: [], compiledRoutes: null, compileAfter: 1 })]);
  const interpreted = yogaWith([]);

  it.each([
    ['{ ok }'],
    ['{ ok missing }'],
    ['{ ok notANumber }'],
    ['{ ok coded }'],
    ['{ ok unexpected }'],
    ['{ ok nested { ok missing } }'],
    ['{\r  ok\r  coded\r}'],
  ])('%s', async (query) => {
    const ask = async (yoga: typeof compiled) => {
      const res = await yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      return { status: res.status, body: await res.text() };
    };
    const runs = compiledExecutionStats.runs;
    const answer = await ask(compiled);
    expect(compiledExecutionStats.runs).toBe(runs + 1);
    expect(answer).toEqual(await ask(interpreted));
    expect(answer.body).not.toContain('password');
  });
});
