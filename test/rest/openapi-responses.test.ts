import { routes } from '../../src/rest/routes';
import { gateway } from '../support/gateway';
import { addMessage, call, newChat, newUser } from '../support/http';
import { expectDocumented } from '../support/openapi-check';

/*
 * Every route, answering successfully and failing, checked against the OpenAPI document: each
 * `call` checks its answer (test/support/openapi-check.ts), and this file makes sure every route
 * of the route map is called both ways. (The rest of the suite is checked the same way, so
 * the statuses of authentication, rate limits, deadlines and body limits are covered by the files
 * that turn them on.)
 */

type Sample = { path: string; body?: unknown; headers?: Record<string, string> };
type Case = { ok: Sample[]; failing: Sample[] };

const HUGE = { content: 'x'.repeat(2 * 1024 * 1024), sender: 'user' };
const TEXT = { 'content-type': 'text/plain' };
const ADMIN = { 'x-admin-api-key': 'test-admin-key' };

let chat = 0;
let user = 0;
let folder = 0;
let budget = 0;
let link = { share_id: 0, token: '' };
let answer = 0;
let question = 0;
let cases: Record<string, Case>;

beforeAll(async () => {
  user = (await newUser('openapi')).user_id;
  chat = (await newChat(user)).chat_id;
  question = (await addMessage(chat, 'What were the sales in March?')).message_id;
  answer = (await addMessage(chat, 'About 1.2 million', 'ai')).message_id;
  folder = (await call('POST', '/folders', { user_id: user, name: 'Finance' })).json.folder_id;
  budget = (
    await call('PUT', '/budgets', { scope: 'global', period: 'month', limit_usd: 100000, alert_percents: [1] }, ADMIN)
  ).json.budget_id;
  link = (await call('POST', `/chats/${chat}/shares?user_id=${user}`, { expires_in_days: 30 })).json;
  cases = {
    'POST /chats/': {
      ok: [{ path: '/chats/', body: { user_id: user } }],
      failing: [{ path: '/chats/', body: { user_id: 'x' } }],
    },
    'GET /chats/:chat_id': {
      ok: [{ path: `/chats/${chat}` }],
      failing: [{ path: '/chats/999999999' }, { path: '/chats/abc' }],
    },
    'GET /chats/': { ok: [{ path: `/chats/?user_id=${user}&limit=2` }], failing: [{ path: '/chats/?limit=-1' }] },
    'GET /chats/search/': {
      ok: [{ path: `/chats/search/?query=sales&user_id=${user}` }],
      failing: [{ path: '/chats/search/' }],
    },
    'GET /chats/:chat_id/messages': {
      ok: [{ path: `/chats/${chat}/messages?limit=1` }],
      failing: [{ path: '/chats/999999999/messages' }, { path: `/chats/${chat}/messages?after=nope` }],
    },
    'GET /chats/:chat_id/export': {
      ok: [{ path: `/chats/${chat}/export` }, { path: `/chats/${chat}/export?format=markdown` }],
      failing: [{ path: '/chats/999999999/export' }, { path: `/chats/${chat}/export?format=pdf` }],
    },
    'PUT /chats/:chat_id': {
      ok: [{ path: `/chats/${chat}`, body: { title: 'Sales' } }],
      failing: [
        { path: '/chats/999999999', body: { title: 'x' } },
        { path: `/chats/${chat}`, body: { title: '' } },
        { path: `/chats/${chat}`, body: 'title=x', headers: TEXT },
      ],
    },
    'PUT /chats/:chat_id/active-branch': {
      ok: [{ path: `/chats/${chat}/active-branch`, body: { message_id: question } }],
      failing: [
        { path: '/chats/999999999/active-branch', body: { message_id: question } },
        { path: `/chats/${chat}/active-branch`, body: { message_id: 999999999 } },
      ],
    },
    'DELETE /chats/:chat_id': { ok: [], failing: [{ path: '/chats/999999999' }, { path: '/chats/-1' }] },
    'POST /chats/cleanup-empty': {
      ok: [{ path: '/chats/cleanup-empty', body: { user_id: user } }],
      failing: [
        { path: '/chats/cleanup-empty', body: { is_admin: true } },
        { path: '/chats/cleanup-empty', body: { user_id: 'x' } },
      ],
    },
    'POST /chats/:chat_id/messages': {
      ok: [{ path: `/chats/${chat}/messages`, body: { content: 'And April?', sender: 'user' } }],
      failing: [
        { path: '/chats/999999999/messages', body: { content: 'x', sender: 'user' } },
        { path: `/chats/${chat}/messages`, body: { content: 'x', sender: 'robot' } },
        { path: `/chats/${chat}/messages`, body: HUGE },
        { path: `/chats/${chat}/messages`, body: '{"content": ', headers: {} },
      ],
    },
    'POST /chats/users': {
      ok: [{ path: '/chats/users', body: { username: 'ann', email: `ann-${user}@example.com` } }],
      failing: [{ path: '/chats/users', body: { username: 'ann', email: 'not an email' } }],
    },
    'POST /usage': {
      ok: [
        {
          path: '/usage',
          body: { user_id: user, chat_id: chat, model_name: 'gpt-4o', prompt_tokens: 10, completion_tokens: 5 },
        },
      ],
      failing: [{ path: '/usage', body: { prompt_tokens: -1, completion_tokens: 5 } }],
    },
    'GET /usage/summary': {
      ok: [{ path: `/usage/summary?user_id=${user}&group_by=MODEL,DAY` }],
      failing: [{ path: '/usage/summary?group_by=PLANET' }, { path: '/usage/summary?time_zone=Mars/Olympus' }],
    },
    'POST /folders': {
      ok: [{ path: '/folders', body: { user_id: user, name: 'Reports' } }],
      failing: [{ path: '/folders', body: { user_id: user, name: '' } }],
    },
    'GET /folders': { ok: [{ path: `/folders?user_id=${user}` }], failing: [{ path: '/folders' }] },
    'PUT /folders/:folder_id': {
      ok: [{ path: `/folders/${folder}?user_id=${user}`, body: { name: 'Sales', parent_id: null } }],
      failing: [
        { path: `/folders/999999999?user_id=${user}`, body: { name: 'x' } },
        { path: `/folders/${folder}?user_id=${user}`, body: { parent_id: folder } },
      ],
    },
    'DELETE /folders/:folder_id': { ok: [], failing: [{ path: `/folders/999999999?user_id=${user}` }] },
    'GET /users/:user_id/retention': {
      ok: [{ path: `/users/${user}/retention` }],
      failing: [{ path: '/users/999999999/retention' }, { path: '/users/x/retention' }],
    },
    'PUT /users/:user_id/retention': {
      ok: [
        { path: `/users/${user}/retention`, body: { days: 90 } },
        { path: `/users/${user}/retention`, body: { days: null } },
      ],
      failing: [
        { path: '/users/999999999/retention', body: { days: 90 } },
        { path: `/users/${user}/retention`, body: { days: 0 } },
      ],
    },
    'POST /admin/retention/preview': {
      ok: [{ path: '/admin/retention/preview', body: { limit: 10 }, headers: ADMIN }],
      failing: [
        { path: '/admin/retention/preview', body: {} },
        { path: '/admin/retention/preview', body: { limit: 5000 }, headers: ADMIN },
      ],
    },
    'GET /usage/allowance': {
      ok: [{ path: `/usage/allowance?user_id=${user}&model_name=gpt-4o` }],
      failing: [{ path: '/usage/allowance?user_id=x' }],
    },
    'PUT /budgets': {
      ok: [
        {
          path: '/budgets',
          body: { scope: 'user', user_id: user, period: 'day', limit_usd: 0.000001 },
          headers: ADMIN,
        },
      ],
      failing: [
        { path: '/budgets', body: { scope: 'global', period: 'day', limit_usd: 5 } },
        { path: '/budgets', body: { scope: 'global', period: 'year', limit_usd: 5 }, headers: ADMIN },
      ],
    },
    'GET /budgets': {
      ok: [{ path: '/budgets', headers: ADMIN }],
      failing: [{ path: '/budgets' }, { path: '/budgets?limit=0', headers: ADMIN }],
    },
    'GET /budgets/:budget_id/alerts': {
      ok: [{ path: `/budgets/${budget}/alerts`, headers: ADMIN }],
      failing: [{ path: `/budgets/${budget}/alerts` }, { path: '/budgets/999999999/alerts', headers: ADMIN }],
    },
    'DELETE /budgets/:budget_id': {
      ok: [],
      failing: [{ path: `/budgets/${budget}` }, { path: '/budgets/999999999', headers: ADMIN }],
    },
    'POST /chats/:chat_id/shares': {
      ok: [{ path: `/chats/${chat}/shares?user_id=${user}`, body: {} }],
      failing: [
        { path: '/chats/999999999/shares', body: {} },
        { path: `/chats/${chat}/shares`, body: { expires_in_days: 0 } },
      ],
    },
    'GET /chats/:chat_id/shares': {
      ok: [{ path: `/chats/${chat}/shares?user_id=${user}` }],
      failing: [{ path: '/chats/999999999/shares' }, { path: '/chats/abc/shares' }],
    },
    'DELETE /chats/:chat_id/shares/:share_id': {
      ok: [],
      failing: [{ path: `/chats/${chat}/shares/999999999` }, { path: `/chats/${chat}/shares/x` }],
    },
    'GET /shared/:token': {
      ok: [{ path: `/shared/${link.token}` }],
      failing: [{ path: `/shared/${'A'.repeat(43)}` }, { path: '/shared/short' }],
    },
    'PUT /chats/:chat_id/messages/:message_id/feedback': {
      ok: [
        { path: `/chats/${chat}/messages/${answer}/feedback?user_id=${user}`, body: { rating: 'up', reason: 'clear' } },
      ],
      failing: [
        { path: `/chats/${chat}/messages/${question}/feedback`, body: { rating: 'up' } },
        { path: `/chats/${chat}/messages/${answer}/feedback`, body: { rating: 'meh' } },
        { path: `/chats/${chat}/messages/999999999/feedback`, body: { rating: 'up' } },
      ],
    },
    'DELETE /chats/:chat_id/messages/:message_id/feedback': {
      ok: [],
      failing: [{ path: `/chats/${chat}/messages/${question}/feedback` }, { path: '/chats/1/messages/x/feedback' }],
    },
    'POST /chats/debug/test-model-usage': {
      ok: [{ path: `/chats/debug/test-model-usage?user_id=${user}&chat_id=${chat}` }],
      failing: [{ path: '/chats/debug/test-model-usage?user_id=999999999' }],
    },
  };
});

describe('every route’s answers are what the OpenAPI document declares', () => {
  it('every route of the route map has samples here', () => {
    expect(Object.keys(cases).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each(routes.map((r) => `${r.method} ${r.path}`))('%s', async (name) => {
    const [method, template] = name.split(' ') as [string, string];
    const { ok, failing } = cases[name] as Case;
    for (const sample of ok) {
      const reply = await call(method, sample.path, sample.body, sample.headers);
      expect([sample.path, reply.status]).toEqual([sample.path, 200]);
    }
    for (const sample of failing) {
      const reply = await call(method, sample.path, sample.body, sample.headers);
      expect([sample.path, reply.status >= 400 && reply.status < 500]).toEqual([sample.path, true]);
    }
    // DELETE last: what it deletes is gone afterwards.
    if (template === '/chats/:chat_id' && method === 'DELETE') {
      const reply = await call(method, template.replace(':chat_id', String((await newChat(user)).chat_id)));
      expect(reply.status).toBe(200);
    }
    if (template === '/budgets/:budget_id' && method === 'DELETE') {
      const spare = await call(
        'PUT',
        '/budgets',
        { scope: 'user', user_id: user, period: 'week', limit_usd: 1 },
        ADMIN,
      );
      const reply = await call(method, `/budgets/${spare.json.budget_id}`, undefined, ADMIN);
      expect(reply.status).toBe(200);
    }
    if (template === '/chats/:chat_id/shares/:share_id' && method === 'DELETE') {
      const spare = await call('POST', `/chats/${chat}/shares?user_id=${user}`, {});
      const reply = await call(method, `/chats/${chat}/shares/${spare.json.share_id}?user_id=${user}`);
      expect(reply.status).toBe(200);
    }
    if (template === '/chats/:chat_id/messages/:message_id/feedback' && method === 'DELETE') {
      await call('PUT', `/chats/${chat}/messages/${answer}/feedback`, { rating: 'down' });
      const reply = await call(method, `/chats/${chat}/messages/${answer}/feedback?user_id=${user}`);
      expect(reply.status).toBe(200);
    }
    if (template === '/folders/:folder_id' && method === 'DELETE') {
      const reply = await call(method, `/folders/${folder}?user_id=${user}`);
      expect(reply.status).toBe(200);
    }
  });

  it('the check itself refuses an undeclared status and a body off its schema', async () => {
    const headers = new Headers({ 'content-type': 'application/json' });
    await expect(
      expectDocumented(gateway(), 'GET', `/chats/${chat}`, { status: 418, headers, text: '{}' }),
    ).rejects.toThrow(/does not declare/);
    await expect(
      expectDocumented(gateway(), 'GET', `/chats/${chat}`, { status: 200, headers, text: '{"chat_id": "one"}' }),
    ).rejects.toThrow(/schema refuses/);
    await expect(
      expectDocumented(gateway(), 'GET', `/chats/${chat}/export`, {
        status: 200,
        headers: new Headers({ 'content-type': 'text/csv' }),
        text: 'a,b',
      }),
    ).rejects.toThrow(/declares application\/json, text\/markdown/);
  });
});
