import { configureGateway } from '../../support/gateway';
import { call, gql, keysOf, listen, newChat, newUser } from '../../support/http';
import { housePricesFile } from '../../support/settings';
import { subscribe } from '../../support/sse';

// The house model costs $1 per 1M prompt tokens (and $2 per 1M completion tokens) until 2031.
configureGateway(housePricesFile());

const ADMIN = { 'x-admin-api-key': 'test-admin-key' };

/** Records a call of the house model costing `usd` (in prompt tokens at $1 per million). */
const spend = (user_id: number, usd: number) =>
  call('POST', '/usage', {
    user_id,
    model_name: 'house-model',
    prompt_tokens: Math.round(usd * 1_000_000),
    completion_tokens: 0,
  });

async function budget(body: Record<string, unknown>): Promise<{ budget_id: number }> {
  const r = await call('PUT', '/budgets', body, ADMIN);
  if (r.status !== 200) throw new Error(`budget: ${r.status} ${r.text}`);
  return r.json;
}

const nextUtcMidnight = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
};

describe('PUT, GET and DELETE /budgets (admins)', () => {
  it('creates, replaces (one budget per subject and period), lists and deletes', async () => {
    const u = await newUser();
    const created = await call(
      'PUT',
      '/budgets',
      { scope: 'user', user_id: u.user_id, period: 'month', limit_usd: 25, time_zone: 'europe/paris' },
      ADMIN,
    );
    expect(created.status).toBe(200);
    expect(keysOf(created.json)).toEqual([
      'alert_percents',
      'api_key_id',
      'budget_id',
      'created_at',
      'limit_usd',
      'period',
      'resets_at',
      'scope',
      'spent_usd',
      'time_zone',
      'updated_at',
      'user_id',
    ]);
    expect(created.json).toMatchObject({
      scope: 'user',
      user_id: u.user_id,
      api_key_id: null,
      period: 'month',
      limit_usd: 25,
      alert_percents: [50, 80, 100],
      time_zone: 'Europe/Paris',
      spent_usd: 0,
    });
    const replaced = await call(
      'PUT',
      '/budgets',
      { scope: 'user', user_id: u.user_id, period: 'month', limit_usd: 30.5, alert_percents: [90, 75, 90] },
      ADMIN,
    );
    expect(replaced.json).toMatchObject({
      budget_id: created.json.budget_id,
      limit_usd: 30.5,
      alert_percents: [75, 90],
      time_zone: 'UTC',
    });
    const daily = await budget({ scope: 'user', user_id: u.user_id, period: 'day', limit_usd: 2 });
    expect(daily.budget_id).not.toBe(created.json.budget_id);
    const listed = await call('GET', `/budgets?user_id=${u.user_id}`, undefined, ADMIN);
    expect(listed.json.map((b: { budget_id: number }) => b.budget_id)).toEqual([
      created.json.budget_id,
      daily.budget_id,
    ]);
    const deleted = await call('DELETE', `/budgets/${daily.budget_id}`, undefined, ADMIN);
    expect([deleted.status, deleted.json]).toEqual([200, { message: `Budget ${daily.budget_id} deleted` }]);
    expect((await call('DELETE', `/budgets/${daily.budget_id}`, undefined, ADMIN)).status).toBe(404);
    expect((await call('GET', `/budgets/${daily.budget_id}/alerts`, undefined, ADMIN)).status).toBe(404);
  });

  it('is for admins only, and refuses bad input with 422, changing nothing', async () => {
    const u = await newUser();
    expect((await call('PUT', '/budgets', { scope: 'global', period: 'day', limit_usd: 1 })).status).toBe(403);
    expect((await call('GET', '/budgets')).status).toBe(403);
    const before = (await call('GET', '/budgets?limit=100', undefined, ADMIN)).json.length;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ scope: 'user', period: 'day', limit_usd: 1 }, /user_id/],
      [{ scope: 'user', user_id: 999999999, period: 'day', limit_usd: 1 }, /user 999999999 not found/],
      [{ scope: 'api_key', api_key_id: 999999999, period: 'day', limit_usd: 1 }, /API key 999999999 not found/],
      [{ scope: 'global', user_id: u.user_id, period: 'day', limit_usd: 1 }, /neither/],
      [{ scope: 'team', period: 'day', limit_usd: 1 }, /scope/],
      [{ scope: 'global', period: 'year', limit_usd: 1 }, /period/],
      [{ scope: 'global', period: 'day', limit_usd: 0 }, /limit_usd: must be more than 0/],
      [{ scope: 'global', period: 'day', limit_usd: -5 }, /limit_usd/],
      [{ scope: 'global', period: 'day', limit_usd: 1e12 }, /limit_usd: must be at most/],
      [{ scope: 'global', period: 'day', limit_usd: 1, alert_percents: [] }, /alert_percents/],
      [{ scope: 'global', period: 'day', limit_usd: 1, alert_percents: [0] }, /alert_percents/],
      [{ scope: 'global', period: 'day', limit_usd: 1, alert_percents: [1001] }, /alert_percents/],
      [{ scope: 'global', period: 'day', limit_usd: 1, time_zone: 'Mars/Olympus' }, /time_zone/],
    ];
    for (const [body, detail] of bad) {
      const r = await call('PUT', '/budgets', body, ADMIN);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), 422]);
      expect(r.json.detail).toMatch(detail);
    }
    expect((await call('GET', '/budgets?limit=100', undefined, ADMIN)).json.length).toBe(before);
  });
});

describe('GET /usage/allowance and the answer of POST /usage', () => {
  it('counts spend exactly, refuses a streamed answer once spent (429), and still records usage', async () => {
    const u = await newUser();
    const none = await call('GET', `/usage/allowance?user_id=${u.user_id}&model_name=house-model`);
    expect(none.json).toEqual({
      allowed: true,
      spent_usd: null,
      limit_usd: null,
      remaining_usd: null,
      resets_at: null,
      budget_id: null,
    });
    const b = await budget({ scope: 'user', user_id: u.user_id, period: 'day', limit_usd: 1 });
    // Ten calls of $0.10: 0.1 added ten times in floating point is 0.9999999999999999, not 1.
    let last: Awaited<ReturnType<typeof spend>> | undefined;
    for (let i = 0; i < 10; i++) last = await spend(u.user_id, 0.1);
    expect(last?.status).toBe(200);
    expect(last?.json.allowance).toEqual({
      allowed: false,
      spent_usd: 1,
      limit_usd: 1,
      remaining_usd: 0,
      resets_at: nextUtcMidnight(),
      budget_id: b.budget_id,
    });
    const chat = await newChat(u.user_id);
    const refused = await call('POST', `/chats/${chat.chat_id}/messages`, {
      content: '',
      sender: 'ai',
      streaming: true,
    });
    expect(refused.status).toBe(429);
    expect(refused.json.detail).toMatch(
      new RegExp(`^Budget ${b.budget_id} is spent .* resets at ${nextUtcMidnight()}`),
    );
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const g = await gql(
      'mutation($c: Int!) { add_message(chat_id: $c, content: "", sender: ai, streaming: true) { message_id } }',
      {
        c: chat.chat_id,
      },
    );
    expect(g.json.errors[0].extensions).toMatchObject({ code: 'BUDGET_EXCEEDED', budget_id: b.budget_id });
    // The conversation itself goes on, and a call that happened anyway is recorded.
    expect((await call('POST', `/chats/${chat.chat_id}/messages`, { content: 'hello', sender: 'user' })).status).toBe(
      200,
    );
    const over = await spend(u.user_id, 0.05);
    expect([over.status, over.json.allowance.spent_usd]).toEqual([200, 1.05]);
  });

  it('is on the answer of a write only; an unknown user is 404', async () => {
    const u = await newUser();
    await spend(u.user_id, 0.01);
    const rows = await gql('query($u: Int) { model_usage(user_id: $u) { usage_id allowance { allowed } } }', {
      u: u.user_id,
    });
    expect(rows.json.data.model_usage[0].allowance).toBeNull();
    expect((await call('GET', '/usage/allowance?user_id=999999999', undefined, ADMIN)).status).toBe(404);
  });

  it('answers against the tightest budget that applies', async () => {
    const u = await newUser();
    await budget({ scope: 'user', user_id: u.user_id, period: 'week', limit_usd: 10 });
    const other = await newUser();
    const tight = await budget({ scope: 'user', user_id: other.user_id, period: 'day', limit_usd: 0.5 });
    await spend(other.user_id, 0.2);
    const mine = await call('GET', `/usage/allowance?user_id=${u.user_id}`);
    expect(mine.json).toMatchObject({ allowed: true, limit_usd: 10, spent_usd: 0 });
    const theirs = await call('GET', `/usage/allowance?user_id=${other.user_id}`);
    expect(theirs.json).toMatchObject({
      allowed: true,
      budget_id: tight.budget_id,
      spent_usd: 0.2,
      remaining_usd: 0.3,
    });
  });
});

describe('alerts', () => {
  it('50 parallel writes crossing 50% and 80% raise exactly one alert for each, told to admin subscribers', async () => {
    const server = await listen();
    const u = await newUser();
    const b = await budget({
      scope: 'user',
      user_id: u.user_id,
      period: 'month',
      limit_usd: 1,
      alert_percents: [50, 80],
    });
    const sub = await subscribe(
      server.base,
      'subscription { budget_alert { threshold budget_id spent_usd } }',
      {},
      ADMIN,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await spend(u.user_id, 0.45);
      // 50 calls of 1 cent at once: 45% to 95%.
      const writes = await Promise.all(Array.from({ length: 50 }, () => spend(u.user_id, 0.01)));
      expect(writes.map((w) => w.status)).toEqual(Array(50).fill(200));
      const alerts = await call('GET', `/budgets/${b.budget_id}/alerts`, undefined, ADMIN);
      expect(alerts.json.map((a: { threshold: number }) => a.threshold)).toEqual([80, 50]);
      expect(alerts.json[0]).toMatchObject({ budget_id: b.budget_id, limit_usd: 1, delivered_at: null, attempts: 0 });
      expect(alerts.json[0].spent_usd).toBeGreaterThanOrEqual(0.8);
      const told = [(await sub.next()).data.budget_alert, (await sub.next()).data.budget_alert];
      expect(told.map((a: { threshold: number }) => a.threshold).sort()).toEqual([50, 80]);
    } finally {
      sub.close();
      await server.close();
    }
  });

  it('is not for other callers: the alerts route and the subscription need the admin key', async () => {
    const u = await newUser();
    const b = await budget({ scope: 'user', user_id: u.user_id, period: 'day', limit_usd: 5 });
    expect((await call('GET', `/budgets/${b.budget_id}/alerts`)).status).toBe(403);
    const g = await gql('subscription { budget_alert { alert_id } }');
    expect(g.json.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
