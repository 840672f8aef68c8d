import { configureGateway, db } from '../../support/gateway';
import { call, newUser } from '../../support/http';
import { housePricesFile } from '../../support/settings';

// The house model costs $1 per 1M prompt tokens until 2031.
configureGateway(housePricesFile());

const ADMIN = { 'x-admin-api-key': 'test-admin-key' };

const record = (user_id: number, model_name: string, prompt_tokens: number) =>
  call('POST', '/usage', { user_id, model_name, prompt_tokens, completion_tokens: 0 });

const csvLines = (text: string) => text.split('\r\n').filter(Boolean);

describe('GET /usage/export', () => {
  it('streams the ledger’s rows as CSV, with exact costs and safe text', async () => {
    const u = await newUser();
    await record(u.user_id, 'house-model', 100_000);
    await record(u.user_id, 'house-model', 1);
    // A client's model name that a spreadsheet would run, with a comma and a quote in it.
    await record(u.user_id, '=HYPERLINK("x",1)', 10);
    const r = await call('GET', `/usage/export?user_id=${u.user_id}`, undefined, {
      ...ADMIN,
      'accept-encoding': 'gzip',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="usage-rows-\d{4}-\d\d-\d\d\.csv"$/);
    // Streamed as read: never buffered whole by the compressor.
    expect(r.headers.get('content-encoding')).toBeNull();
    const [header, ...rows] = csvLines(r.text);
    expect(header).toBe(
      'usage_id,timestamp,user_id,chat_id,api_key_id,model_name,provider,prompt_tokens,completion_tokens,cached_prompt_tokens,reasoning_tokens,total_tokens,cost_usd,price_known,is_streaming,request_time_ms',
    );
    expect(rows).toHaveLength(3);
    const cells = rows.map((line) => line.split(','));
    expect(cells[0]?.slice(5, 8)).toEqual(['house-model', 'house', '100000']);
    expect(cells[0]?.[12]).toBe('0.100000');
    expect(cells[1]?.[12]).toBe('0.000001');
    expect(rows[2]).toContain(`"'=hyperlink(""x"",1)"`);
  });

  it('answers JSON, and the grouped summary with group_by', async () => {
    const u = await newUser();
    await record(u.user_id, 'house-model', 200_000);
    await record(u.user_id, 'house-model', 300_000);
    const json = await call('GET', `/usage/export?user_id=${u.user_id}&format=json`, undefined, ADMIN);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(
      json.json.map((row: { prompt_tokens: number; cost_usd: number }) => [row.prompt_tokens, row.cost_usd]),
    ).toEqual([
      [200_000, 0.2],
      [300_000, 0.3],
    ]);
    const grouped = await call(
      'GET',
      `/usage/export?user_id=${u.user_id}&group_by=model,day&time_zone=UTC`,
      undefined,
      ADMIN,
    );
    const [header, ...rows] = csvLines(grouped.text);
    expect(header).toBe(
      'day,model_name,requests,prompt_tokens,completion_tokens,cached_prompt_tokens,reasoning_tokens,total_tokens,cost_usd',
    );
    expect(rows).toEqual([`${new Date().toISOString().slice(0, 10)},house-model,2,500000,0,0,0,500000,0.5`]);
  });

  it('pages through many rows (more than a page of 2,000) without losing or repeating one', async () => {
    const u = await newUser();
    await db().modelUsage.createMany({
      data: Array.from({ length: 4500 }, (_, i) => ({
        user_id: u.user_id,
        model_name: 'bulk-model',
        provider: 'house',
        prompt_tokens: i,
        completion_tokens: 0,
        total_tokens: i,
        cost: i / 1_000_000,
        cost_micros: BigInt(i),
      })),
    });
    const r = await call('GET', `/usage/export?user_id=${u.user_id}`, undefined, ADMIN);
    const rows = csvLines(r.text).slice(1);
    expect(rows).toHaveLength(4500);
    expect(rows.map((line) => Number(line.split(',')[7]))).toEqual(Array.from({ length: 4500 }, (_, i) => i));
  });

  it('answers HEAD with the headers alone', async () => {
    const r = await call('HEAD', '/usage/export?format=json', undefined, ADMIN);
    expect([r.status, r.headers.get('content-type'), r.text]).toEqual([200, 'application/json; charset=utf-8', '']);
  });

  it('is for admins only, and refuses bad parameters with 422', async () => {
    expect((await call('GET', '/usage/export')).status).toBe(403);
    expect((await call('POST', '/usage/export', {}, ADMIN)).status).toBe(405);
    for (const bad of [
      'format=xml',
      'from=yesterday',
      'from=2026-02-31',
      'group_by=PLANET',
      'user_id=x',
      'time_zone=Mars/Olympus',
      'limit=5',
      'from=2026-11-02&to=2026-11-01',
      'format=csv&format=json',
    ]) {
      const r = await call('GET', `/usage/export?${bad}`, undefined, ADMIN);
      expect([bad, r.status]).toEqual([bad, 422]);
      expect(r.json.detail).toBeTruthy();
    }
  });
});
