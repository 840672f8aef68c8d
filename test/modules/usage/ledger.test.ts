import { db } from '../../support/gateway';
import { call, gql, newChat, newUser } from '../../support/http';

type Row = Record<string, any>;

async function record(body: Record<string, unknown>) {
  return call('POST', '/usage', body);
}

describe('POST /usage (record_model_usage)', () => {
  it('prices a known model at write time, cached prompt tokens at the cached price, and keeps the prices', async () => {
    const u = await newUser();
    const r = await record({
      user_id: u.user_id,
      model_name: 'OpenAI/GPT-4o',
      prompt_tokens: 1000,
      completion_tokens: 200,
      cached_prompt_tokens: 400,
      reasoning_tokens: 50,
      request_time_ms: 830,
      is_streaming: true,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      user_id: u.user_id,
      model_name: 'gpt-4o',
      provider: 'openai',
      total_tokens: 1200,
      price_known: true,
      input_price: 2.5,
      cached_input_price: 1.25,
      output_price: 10,
      is_streaming: true,
      request_time_ms: 830,
      reasoning_tokens: 50,
    });
    expect(r.json.cost).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6, 12);
  });

  it('normalises a price published per 1K tokens to per 1M', async () => {
    const r = await record({ model_name: 'gpt-3.5-turbo', prompt_tokens: 2000, completion_tokens: 1000 });
    expect(r.json).toMatchObject({ input_price: 0.5, output_price: 1.5, price_known: true });
    expect(r.json.cost).toBeCloseTo((2000 * 0.5 + 1000 * 1.5) / 1e6, 12);
  });

  it('records an unknown model at cost 0 with price_known false, never dropping the call', async () => {
    const r = await record({ model_name: 'my-local-llm', provider: 'Ollama', prompt_tokens: 10, completion_tokens: 5 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      model_name: 'my-local-llm',
      provider: 'ollama',
      cost: 0,
      price_known: false,
      input_price: null,
    });
    const noProvider = await record({ model_name: 'gpt-4o-mini-2099', prompt_tokens: 1, completion_tokens: 1 });
    expect(noProvider.json).toMatchObject({ provider: 'unknown', price_known: false });
  });

  it('records a call whose chat is gone as no chat, since usage outlives chats', async () => {
    const c = await newChat();
    await call('DELETE', `/chats/${c.chat_id}`);
    const r = await record({ chat_id: c.chat_id, model_name: 'gpt-4o', prompt_tokens: 1, completion_tokens: 1 });
    expect(r.status).toBe(200);
    expect(r.json.chat_id).toBeNull();
  });

  it('never attaches a call to a chat the user may not use, and says the same as for a missing chat', async () => {
    const a = await newUser();
    const b = await newUser();
    const chatOfA = await newChat(a.user_id);
    const r = await record({
      user_id: b.user_id,
      chat_id: chatOfA.chat_id,
      model_name: 'gpt-4o',
      prompt_tokens: 1,
      completion_tokens: 1,
    });
    expect(r.status).toBe(200);
    expect(r.json.chat_id).toBeNull();
  });

  it.each([
    [{ model_name: 'gpt-4o', prompt_tokens: -1, completion_tokens: 1 }, /prompt_tokens/],
    [{ model_name: 'gpt-4o', prompt_tokens: 1.5, completion_tokens: 1 }, /prompt_tokens/],
    [{ model_name: 'gpt-4o', prompt_tokens: 1 }, /completion_tokens/],
    [{ model_name: 'gpt-4o', prompt_tokens: 1, completion_tokens: 1, cached_prompt_tokens: 2 }, /cached_prompt_tokens/],
    [{ model_name: 'gpt-4o', prompt_tokens: 1, completion_tokens: 1, reasoning_tokens: 2 }, /reasoning_tokens/],
    [{ model_name: '', prompt_tokens: 1, completion_tokens: 1 }, /model_name/],
    [{ model_name: 'gpt-4o', prompt_tokens: 1, completion_tokens: 1, user_id: 2147480000 }, /User/],
  ])('rejects %j with 422 and records nothing', async (body, detail) => {
    const before = await db().modelUsage.count();
    const r = await record(body);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(detail);
    expect(await db().modelUsage.count()).toBe(before);
  });

  it('is the same operation on GraphQL', async () => {
    const g = await gql(
      'mutation { record_model_usage(model_name: "claude-3-5-haiku", prompt_tokens: 100, completion_tokens: 100) { provider cost price_known } }',
    );
    expect(g.json.data.record_model_usage).toEqual({
      provider: 'anthropic',
      cost: (100 * 0.8 + 100 * 4) / 1e6,
      price_known: true,
    });
  });
});

/** Rows with chosen timestamps, written straight to the ledger. */
async function seed(
  userId: number,
  rows: { at: string; model: string; provider: string; cost: number; chat?: number }[],
) {
  await db().modelUsage.createMany({
    data: rows.map((r) => ({
      user_id: userId,
      chat_id: r.chat ?? null,
      model_name: r.model,
      provider: r.provider,
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      cost: r.cost,
      timestamp: new Date(r.at),
    })),
  });
}

async function summary(query: string): Promise<Row> {
  const r = await call('GET', `/usage/summary?${query}`);
  expect(r.status).toBe(200);
  return r.json;
}

const pick = (rows: Row[], ...keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));

describe('GET /usage/summary (usage_summary)', () => {
  let user = 0;
  let chat = 0;

  beforeAll(async () => {
    user = (await newUser()).user_id;
    chat = (await newChat(user)).chat_id;
    await seed(user, [
      // 2026-03-28 23:30 UTC is already 2026-03-29 in Paris (UTC+1 that night).
      { at: '2026-03-28T23:30:00Z', model: 'gpt-4o', provider: 'openai', cost: 1 },
      { at: '2026-03-29T00:30:00Z', model: 'gpt-4o', provider: 'openai', cost: 2, chat },
      // DST in Paris starts 2026-03-29 01:00 UTC: local 23:30 on the 29th is 21:30 UTC.
      { at: '2026-03-29T21:30:00Z', model: 'claude-3-5-haiku', provider: 'anthropic', cost: 4 },
      { at: '2026-03-29T22:30:00Z', model: 'claude-3-5-haiku', provider: 'anthropic', cost: 8 },
    ]);
  });

  const base = () => `user_id=${user}&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`;

  it('groups by day in UTC by default', async () => {
    const s = await summary(`${base()}&group_by=DAY`);
    expect(pick(s.rows, 'day', 'requests', 'cost')).toEqual([
      { day: '2026-03-28', requests: 1, cost: 1 },
      { day: '2026-03-29', requests: 3, cost: 14 },
    ]);
    expect(s.totals).toMatchObject({ requests: 4, cost: 15, total_tokens: 60 });
  });

  it('groups by local day in the requested time zone, across a DST change', async () => {
    const paris = await summary(`${base()}&group_by=DAY&time_zone=Europe/Paris`);
    expect(pick(paris.rows, 'day', 'cost')).toEqual([
      { day: '2026-03-29', cost: 7 },
      { day: '2026-03-30', cost: 8 },
    ]);
    const kolkata = await summary(`${base()}&group_by=DAY&time_zone=Asia/Kolkata`);
    expect(pick(kolkata.rows, 'day', 'cost')).toEqual([
      { day: '2026-03-29', cost: 3 },
      { day: '2026-03-30', cost: 12 },
    ]);
    const la = await summary(`${base()}&group_by=DAY&time_zone=America/Los_Angeles`);
    expect(pick(la.rows, 'day', 'cost')).toEqual([
      { day: '2026-03-28', cost: 3 },
      { day: '2026-03-29', cost: 12 },
    ]);
  });

  it('reads a time zone in any case and answers with its canonical name', async () => {
    const paris = await summary(`${base()}&group_by=DAY&time_zone=Europe/Paris`);
    for (const spelling of ['europe/paris', 'EUROPE/PARIS', 'eUrOpE/pArIs']) {
      const s = await summary(`${base()}&group_by=DAY&time_zone=${spelling}`);
      expect(s.time_zone).toBe('Europe/Paris');
      expect(s.rows).toEqual(paris.rows);
    }
  });

  it('reads date-only bounds as local days', async () => {
    const s = await summary(`user_id=${user}&from=2026-03-29&to=2026-03-30&time_zone=Europe/Paris`);
    expect(s.totals).toMatchObject({ requests: 3, cost: 7 });
    expect(s.from).toBe('2026-03-28T23:00:00.000Z');
  });

  it('groups by model, provider, user and chat, highest cost first', async () => {
    const byModel = await summary(`${base()}&group_by=MODEL`);
    expect(pick(byModel.rows, 'model_name', 'requests', 'cost')).toEqual([
      { model_name: 'claude-3-5-haiku', requests: 2, cost: 12 },
      { model_name: 'gpt-4o', requests: 2, cost: 3 },
    ]);
    const byProvider = await summary(`${base()}&group_by=PROVIDER,USER`);
    expect(pick(byProvider.rows, 'provider', 'user_id', 'cost')).toEqual([
      { provider: 'anthropic', user_id: user, cost: 12 },
      { provider: 'openai', user_id: user, cost: 3 },
    ]);
    const byChat = await summary(`${base()}&group_by=CHAT`);
    expect(pick(byChat.rows, 'chat_id', 'cost')).toEqual([
      { chat_id: null, cost: 13 },
      { chat_id: chat, cost: 2 },
    ]);
    const oneChat = await summary(`${base()}&chat_id=${chat}`);
    expect(oneChat.totals.cost).toBe(2);
  });

  it('answers the same over GraphQL', async () => {
    const g = await gql(
      `query($u: Int) { usage_summary(user_id: $u, from: "2026-03-01", to: "2026-04-01", group_by: [MODEL, DAY], time_zone: "Europe/Paris") {
        time_zone rows { model_name day requests cost } totals { requests cost } } }`,
      { u: user },
    );
    expect(g.json.data.usage_summary.rows).toEqual([
      { model_name: 'claude-3-5-haiku', day: '2026-03-29', requests: 1, cost: 4 },
      { model_name: 'gpt-4o', day: '2026-03-29', requests: 2, cost: 3 },
      { model_name: 'claude-3-5-haiku', day: '2026-03-30', requests: 1, cost: 8 },
    ]);
    expect(g.json.data.usage_summary.totals).toEqual({ requests: 4, cost: 15 });
  });

  it.each([
    ['group_by=WEEK', /group_by/],
    ['time_zone=Mars/Olympus', /time_zone/],
    ['from=yesterday', /from/],
    ['from=2026-03-02&to=2026-03-01', /before/],
    ['from=2020-01-01&to=2026-01-01&group_by=DAY', /400 days/],
    ['from=1971-01-01&to=9998-12-31&group_by=DAY', /400 days/],
    ['from=1000-01-01', /from/],
    ['to=9999-12-31T23:00:00-14:00', /to/],
    ['from=0050-01-01', /from/],
    ['from=2026-02-31', /from/],
  ])('rejects %s with 422', async (query, detail) => {
    const r = await call('GET', `/usage/summary?${query}`);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(detail);
  });
});
