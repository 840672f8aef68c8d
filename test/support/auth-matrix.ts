// The access matrix of AUTH_MODE=jwt and AUTH_MODE=api-key: every REST route, and its GraphQL
// twin, called by the same request as four callers. Only the credentials differ.
import { call, gql } from './http';

export type Role = 'anonymous' | 'owner' | 'other' | 'admin';
export type Credentials = Record<Role, Record<string, string>>;

const ADMIN_KEY = { 'x-admin-api-key': 'test-admin-key' };

/**
 * `answer`: an AI message in `chat`, with feedback on it, for the cases that ask for one (`rated`);
 * `share`: a share link of A's chat, for the cases that ask for one (`shared`).
 */
type Fixture = { a: number; b: number; chat: number; answer: number; share: { share_id: number; token: string } };
/** A chat as GET /chats/{chat_id}/export gives it, to import. */
const IMPORTED_CHAT = { title: 'Imported', messages: [{ content: 'hello', sender: 'user' }] };

type Case = {
  name: string;
  rest: (f: Fixture) => { method: string; path: string; body?: unknown };
  graphql: (f: Fixture) => { query: string; variables: Record<string, unknown> };
  expect: Record<Role, number>;
  /** For lists: the other user gets 200 and sees nothing. */
  emptyFor?: Role[];
  /** The case needs a share link of A's chat. */
  shared?: boolean;
  /** The fixture needs an AI answer with feedback on it. */
  rated?: boolean;
};

const CODE: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

export const cases: Case[] = [
  {
    name: 'create a chat for user A',
    rest: (f) => ({ method: 'POST', path: '/chats/', body: { user_id: f.a } }),
    graphql: (f) => ({ query: 'mutation($a: Int) { create_chat(user_id: $a) { chat_id } }', variables: { a: f.a } }),
    expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
  },
  {
    name: 'read A’s chat with user_id=A',
    rest: (f) => ({ method: 'GET', path: `/chats/${f.chat}?user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'query($c: Int!, $a: Int) { chat(chat_id: $c, user_id: $a) { chat_id } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'read A’s chat without user_id',
    rest: (f) => ({ method: 'GET', path: `/chats/${f.chat}` }),
    graphql: (f) => ({ query: 'query($c: Int!) { chat(chat_id: $c) { chat_id } }', variables: { c: f.chat } }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'list A’s chats',
    rest: (f) => ({ method: 'GET', path: `/chats/?user_id=${f.a}` }),
    graphql: (f) => ({ query: 'query($a: Int) { chats(user_id: $a) { chat_id } }', variables: { a: f.a } }),
    expect: { anonymous: 401, owner: 200, other: 200, admin: 200 },
    emptyFor: ['other'],
  },
  {
    name: 'rename A’s chat',
    rest: (f) => ({ method: 'PUT', path: `/chats/${f.chat}`, body: { title: 'renamed' } }),
    graphql: (f) => ({
      query: 'mutation($c: Int!) { update_chat(chat_id: $c, title: "renamed") { chat_id } }',
      variables: { c: f.chat },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'move A’s chat to B',
    rest: (f) => ({ method: 'PUT', path: `/chats/${f.chat}`, body: { user_id: f.b } }),
    graphql: (f) => ({
      query: 'mutation($c: Int!, $b: Int) { update_chat(chat_id: $c, user_id: $b) { chat_id } }',
      variables: { c: f.chat, b: f.b },
    }),
    expect: { anonymous: 401, owner: 403, other: 404, admin: 200 },
  },
  {
    name: 'delete A’s chat',
    rest: (f) => ({ method: 'DELETE', path: `/chats/${f.chat}?user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'mutation($c: Int!, $a: Int) { delete_chat(chat_id: $c, user_id: $a) { message } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'add a message to A’s chat',
    rest: (f) => ({
      method: 'POST',
      path: `/chats/${f.chat}/messages?user_id=${f.a}`,
      body: { content: 'hi', sender: 'user' },
    }),
    graphql: (f) => ({
      query:
        'mutation($c: Int!, $a: Int) { add_message(chat_id: $c, user_id: $a, content: "hi", sender: user) { message_id } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'clean up A’s empty chats',
    rest: (f) => ({ method: 'POST', path: '/chats/cleanup-empty', body: { user_id: f.a, is_admin: false } }),
    graphql: (f) => ({
      query: 'mutation($a: Int) { cleanup_empty_chats(user_id: $a) { message } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
  },
  {
    name: 'clean up everyone’s empty chats',
    rest: () => ({ method: 'POST', path: '/chats/cleanup-empty', body: { is_admin: true } }),
    graphql: () => ({ query: 'mutation { cleanup_empty_chats(is_admin: true) { message } }', variables: {} }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
  },
  {
    name: 'create or get a user',
    rest: () => ({ method: 'POST', path: '/chats/users', body: { username: 'n', email: 'new-user@example.com' } }),
    graphql: () => ({
      query: 'mutation { create_or_get_user(username: "n", email: "new-user@example.com") { user_id } }',
      variables: {},
    }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
  },
  {
    name: 'record a test model usage',
    rest: (f) => ({ method: 'POST', path: `/chats/debug/test-model-usage?user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'mutation($a: Int) { test_model_usage(user_id: $a) { success } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
  },
  {
    name: 'record a model call for A',
    rest: (f) => ({
      method: 'POST',
      path: '/usage',
      body: { user_id: f.a, model_name: 'gpt-4o', prompt_tokens: 10, completion_tokens: 5 },
    }),
    graphql: (f) => ({
      query:
        'mutation($a: Int) { record_model_usage(user_id: $a, model_name: "gpt-4o", prompt_tokens: 10, completion_tokens: 5) { usage_id } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
  },
  {
    name: 'summarise A’s usage',
    rest: (f) => ({ method: 'GET', path: `/usage/summary?user_id=${f.a}&group_by=MODEL` }),
    graphql: (f) => ({
      query: 'query($a: Int) { usage_summary(user_id: $a, group_by: [MODEL]) { totals { requests } } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
  },
  {
    name: 'search A’s chats',
    rest: (f) => ({ method: 'GET', path: `/chats/search/?query=New&user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'query($a: Int) { search_chats(query: "New", user_id: $a) { chat_id } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 200, admin: 200 },
    emptyFor: ['other'],
  },
  {
    name: 'page through A’s chat',
    rest: (f) => ({ method: 'GET', path: `/chats/${f.chat}/messages?user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'query($c: Int!, $a: Int) { chat_messages(chat_id: $c, user_id: $a) { next_cursor } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'export A’s chat',
    rest: (f) => ({ method: 'GET', path: `/chats/${f.chat}/export?user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'query($c: Int!, $a: Int) { export_chat(chat_id: $c, user_id: $a) { filename } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'read A’s retention policy',
    rest: (f) => ({ method: 'GET', path: `/users/${f.a}/retention` }),
    graphql: (f) => ({
      query: 'query($a: Int!) { user_retention(user_id: $a) { days } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'set A’s retention policy',
    rest: (f) => ({ method: 'PUT', path: `/users/${f.a}/retention`, body: { days: 3650 } }),
    graphql: (f) => ({
      query: 'mutation($a: Int!) { set_user_retention(user_id: $a, days: 3650) { days } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
  },
  {
    name: 'preview the retention sweep',
    rest: () => ({ method: 'POST', path: '/admin/retention/preview', body: {} }),
    graphql: () => ({ query: '{ retention_preview { total } }', variables: {} }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
  },
  {
    name: 'ask A’s allowance',
    rest: (f) => ({ method: 'GET', path: `/usage/allowance?user_id=${f.a}` }),
    graphql: (f) => ({ query: 'query($a: Int) { usage_allowance(user_id: $a) { allowed } }', variables: { a: f.a } }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'set a budget on A',
    rest: (f) => ({
      method: 'PUT',
      path: '/budgets',
      body: { scope: 'user', user_id: f.a, period: 'month', limit_usd: 1000 },
    }),
    graphql: (f) => ({
      query: 'mutation($a: Int) { set_budget(scope: user, user_id: $a, period: month, limit_usd: 1000) { budget_id } }',
      variables: { a: f.a },
    }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
  },
  {
    name: 'list budgets',
    rest: () => ({ method: 'GET', path: '/budgets' }),
    graphql: () => ({ query: '{ budgets { budget_id } }', variables: {} }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
  },
  {
    name: 'share A’s chat',
    rest: (f) => ({ method: 'POST', path: `/chats/${f.chat}/shares?user_id=${f.a}`, body: {} }),
    graphql: (f) => ({
      query: 'mutation($c: Int!, $a: Int) { create_share(chat_id: $c, user_id: $a) { share_id } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
  {
    name: 'list the share links of A’s chat',
    rest: (f) => ({ method: 'GET', path: `/chats/${f.chat}/shares?user_id=${f.a}` }),
    graphql: (f) => ({
      query: 'query($c: Int!, $a: Int) { chat_shares(chat_id: $c, user_id: $a) { share_id } }',
      variables: { c: f.chat, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
    shared: true,
  },
  {
    name: 'revoke a share link of A’s chat',
    rest: (f) => ({ method: 'DELETE', path: `/chats/${f.chat}/shares/${f.share.share_id}?user_id=${f.a}` }),
    graphql: (f) => ({
      query:
        'mutation($c: Int!, $s: Int!, $a: Int) { revoke_share(chat_id: $c, share_id: $s, user_id: $a) { message } }',
      variables: { c: f.chat, s: f.share.share_id, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
    shared: true,
  },
  {
    name: 'read A’s shared chat (no credentials needed)',
    rest: (f) => ({ method: 'GET', path: `/shared/${f.share.token}` }),
    graphql: (f) => ({
      query: 'query($t: String!) { shared_chat(token: $t) { title } }',
      variables: { t: f.share.token },
    }),
    expect: { anonymous: 200, owner: 200, other: 200, admin: 200 },
    shared: true,
  },
  {
    name: 'give feedback on an answer in A’s chat',
    rest: (f) => ({
      method: 'PUT',
      path: `/chats/${f.chat}/messages/${f.answer}/feedback?user_id=${f.a}`,
      body: { rating: 'down', reason: 'vague' },
    }),
    graphql: (f) => ({
      query:
        'mutation($c: Int!, $m: Int!, $a: Int) { set_feedback(chat_id: $c, message_id: $m, user_id: $a, rating: down) { message_id } }',
      variables: { c: f.chat, m: f.answer, a: f.a },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
    rated: true,
  },
  {
    name: 'delete the feedback on an answer in A’s chat',
    rest: (f) => ({ method: 'DELETE', path: `/chats/${f.chat}/messages/${f.answer}/feedback` }),
    graphql: (f) => ({
      query: 'mutation($c: Int!, $m: Int!) { delete_feedback(chat_id: $c, message_id: $m) { message } }',
      variables: { c: f.chat, m: f.answer },
    }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
    rated: true,
  },
  {
    name: 'export feedback',
    rest: () => ({ method: 'GET', path: '/feedback?format=json' }),
    graphql: () => ({ query: '{ feedback_export { message_id } }', variables: {} }),
    expect: { anonymous: 401, owner: 403, other: 403, admin: 200 },
    rated: true,
  },
  {
    name: 'import chats for user A',
    rest: (f) => ({ method: 'POST', path: `/chats/import?user_id=${f.a}`, body: IMPORTED_CHAT }),
    graphql: (f) => ({
      query: 'mutation($a: Int, $d: String!) { import_chats(user_id: $a, data: $d) { imported } }',
      variables: { a: f.a, d: JSON.stringify(IMPORTED_CHAT) },
    }),
    expect: { anonymous: 401, owner: 200, other: 403, admin: 200 },
  },
  {
    name: 'read A’s model usage',
    rest: () => ({ method: 'GET', path: '/openapi.json' }), // no REST route: GraphQL only
    graphql: (f) => ({ query: 'query($a: Int) { model_usage(user_id: $a) { usage_id } }', variables: { a: f.a } }),
    expect: { anonymous: 401, owner: 200, other: 200, admin: 200 },
    emptyFor: ['other'],
  },
  {
    name: 'read user A',
    rest: () => ({ method: 'GET', path: '/openapi.json' }), // no REST route: GraphQL only
    graphql: (f) => ({ query: 'query($a: Int!) { user(user_id: $a) { user_id } }', variables: { a: f.a } }),
    expect: { anonymous: 401, owner: 200, other: 404, admin: 200 },
  },
];

export async function adminGql(query: string, variables: Record<string, unknown> = {}) {
  const r = await gql(query, variables, ADMIN_KEY);
  if (r.json?.errors) throw new Error(JSON.stringify(r.json.errors));
  return r.json.data;
}

export async function createUser(name: string): Promise<number> {
  const data = await adminGql(
    'mutation($n: String!, $e: String!) { create_or_get_user(username: $n, email: $e) { user_id } }',
    {
      n: name,
      e: `${name}-${process.pid}-${Date.now()}@example.com`,
    },
  );
  return data.create_or_get_user.user_id;
}

/**
 * A fresh chat of A's with one usage row (and, `rated`, a rated AI answer; `shared`, a share link),
 * so every case starts from the same state.
 */
async function fixture(a: number, b: number, rated = false, shared = false): Promise<Fixture> {
  const chat = (await adminGql('mutation($a: Int) { create_chat(user_id: $a) { chat_id } }', { a })).create_chat
    .chat_id;
  await adminGql('mutation($a: Int) { test_model_usage(user_id: $a) { success } }', { a });
  const share = shared
    ? (await adminGql('mutation($c: Int!) { create_share(chat_id: $c) { share_id token } }', { c: chat })).create_share
    : { share_id: 0, token: '' };
  if (!rated) return { a, b, chat, answer: 0, share };
  const answer = (
    await adminGql('mutation($c: Int!) { add_message(chat_id: $c, content: "An answer", sender: ai) { message_id } }', {
      c: chat,
    })
  ).add_message.message_id;
  await adminGql(
    'mutation($c: Int!, $m: Int!) { set_feedback(chat_id: $c, message_id: $m, rating: up) { message_id } }',
    {
      c: chat,
      m: answer,
    },
  );
  return { a, b, chat, answer, share };
}

/** Runs every case for every role on both surfaces; returns how many checks ran. */
export function describeMatrix(users: () => { a: number; b: number }, credentials: () => Credentials) {
  const roles: Role[] = ['anonymous', 'owner', 'other', 'admin'];
  for (const c of cases) {
    for (const role of roles) {
      const expected = c.expect[role];
      it(`${c.name}: ${role} gets ${expected} (REST and GraphQL)`, async () => {
        const { a, b } = users();
        const headers = credentials()[role];
        const graphqlOnly =
          c.rest({ a, b, chat: 0, answer: 0, share: { share_id: 0, token: '' } }).path === '/openapi.json';
        if (!graphqlOnly) {
          const req = c.rest(await fixture(a, b, c.rated, c.shared));
          const r = await call(req.method, req.path, req.body, headers);
          expect([r.status, r.json?.detail]).toEqual([expected, expected === 200 ? undefined : expect.any(String)]);
          if (c.emptyFor?.includes(role)) expect(r.json).toEqual([]);
        }
        const op = c.graphql(await fixture(a, b, c.rated, c.shared));
        const g = await gql(op.query, op.variables, headers);
        expect(g.status).toBe(200);
        if (expected === 200) {
          expect(g.json.errors).toBeUndefined();
          if (c.emptyFor?.includes(role)) expect(Object.values(g.json.data)[0]).toEqual([]);
          else if (Array.isArray(Object.values(g.json.data)[0])) expect(Object.values(g.json.data)[0]).not.toEqual([]);
        } else {
          expect(g.json.errors?.[0]?.extensions?.code).toBe(CODE[expected]);
        }
      });
    }
  }
}
