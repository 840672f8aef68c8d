import { configureGateway } from '../support/gateway';
import { addMessage, call, callFetch, gql, newChat, newUser } from '../support/http';

const TOKEN = 'a-metrics-token-for-the-tests';
configureGateway({ METRICS_TOKEN: TOKEN });

const scrape = async () => {
  const r = await call('GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` });
  expect(r.status).toBe(200);
  return r.text;
};

/** The value of one series: `name` with (at least) these labels; 0 when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, v]) => have[key] === v)) return Number(match[3]);
  }
  return 0;
}

/** How a series changed across `action`. */
async function change(name: string, labels: Record<string, string>, action: () => Promise<unknown>) {
  const before = value(await scrape(), name, labels);
  await action();
  return value(await scrape(), name, labels) - before;
}

const REQUESTS = 'chat_gateway_http_request_duration_seconds_count';

describe('GET /metrics', () => {
  it('answers only the bearer of METRICS_TOKEN', async () => {
    const none = await call('GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.json.detail).toMatch(/METRICS_TOKEN/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await call('GET', '/metrics', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const r = await call('GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts REST requests by route template, method and status, on both request paths', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    const ok = { route: '/chats/:chat_id', operation: '', method: 'GET', status: '200' };
    expect(await change(REQUESTS, ok, () => call('GET', `/chats/${c.chat_id}?user_id=${u.user_id}`))).toBe(1);
    expect(await change(REQUESTS, ok, () => callFetch('GET', `/chats/${c.chat_id}?user_id=${u.user_id}`))).toBe(1);
    const missing = { ...ok, status: '404' };
    expect(await change(REQUESTS, missing, () => call('GET', '/chats/999999999'))).toBe(1);
    // A path outside the API is one series, whatever the path.
    const unmatched = { route: 'unmatched', method: 'GET', status: '404' };
    expect(await change(REQUESTS, unmatched, () => call('GET', `/no/such/${Date.now()}`))).toBe(1);
    // A folder of static files is one series too.
    const files = { route: '/docs', operation: '', method: 'GET', status: '200' };
    expect(await change(REQUESTS, files, () => call('GET', '/docs/swagger-ui.css'))).toBe(1);
  });

  it('names GraphQL operations, and counts errors by extensions.code on both surfaces', async () => {
    const named = { route: '/graphql', operation: 'RecentChats', method: 'POST', status: '200' };
    expect(await change(REQUESTS, named, () => gql('query RecentChats { chats { chat_id } }'))).toBe(1);
    const errors = 'chat_gateway_graphql_errors_total';
    expect(await change(errors, { code: 'GRAPHQL_VALIDATION_FAILED' }, () => gql('{ no_such_field }'))).toBe(1);
    expect(await change(errors, { code: 'GRAPHQL_PARSE_FAILED' }, () => gql('{ chats {'))).toBe(1);
    expect(await change(errors, { code: 'NOT_FOUND' }, () => call('GET', '/chats/999999999'))).toBe(1);
    expect(await change(errors, { code: 'NOT_FOUND' }, () => gql('{ chat(chat_id: 999999999) { title } }'))).toBe(1);
  });

  it('counts messages written, and tokens and cost by model and provider', async () => {
    const c = await newChat();
    expect(
      await change('chat_gateway_messages_written_total', { sender: 'user' }, () => addMessage(c.chat_id, 'hi')),
    ).toBe(1);
    const model = { model: 'gpt-4o', provider: 'openai' };
    const before = await scrape();
    const r = await call('POST', '/usage', { model_name: 'gpt-4o', prompt_tokens: 1000, completion_tokens: 500 });
    expect(r.status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta('chat_gateway_model_tokens_total', { ...model, kind: 'prompt' })).toBe(1000);
    expect(delta('chat_gateway_model_tokens_total', { ...model, kind: 'completion' })).toBe(500);
    expect(delta('chat_gateway_model_cost_usd_total', model)).toBeCloseTo(r.json.cost, 9);
    // A model outside the price table is counted in one shared series.
    await call('POST', '/usage', { model_name: `house-${Date.now()}`, prompt_tokens: 7, completion_tokens: 3 });
    expect(value(await scrape(), 'chat_gateway_model_tokens_total', { model: 'unpriced', kind: 'prompt' })).toBe(7);
  });

  it('has SQL statement latency, open streams, and Node’s own metrics', async () => {
    await call('GET', '/chats/');
    const text = await scrape();
    expect(value(text, 'chat_gateway_db_query_duration_seconds_count', { statement: 'SELECT' })).toBeGreaterThan(0);
    expect(text).toMatch(/^chat_gateway_streams_open 0$/m);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });
});
