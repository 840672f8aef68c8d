import { randomUUID } from 'node:crypto';
import { type Gateway, http, startGateway } from '../support/gateway-process';

// Needs Redis: TEST_REDIS_URL (global-setup starts one where redis-server is installed).
const redis = process.env.TEST_REDIS_URL;
if (!redis && !process.env.CI) console.warn('rate-limit-redis.test.ts skipped: no TEST_REDIS_URL');

(redis || process.env.CI ? describe : describe.skip)('rate limit shared through Redis by two instances', () => {
  let a: Gateway;
  let b: Gateway;

  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '6', REDIS_URL: redis as string, REDIS_PREFIX: `test-${randomUUID()}:` };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
  });

  afterAll(async () => {
    for (const g of [a, b]) g?.process.kill('SIGTERM');
    await Promise.all([a?.exited, b?.exited]);
  });

  it('counts one caller’s requests on both instances against one budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await http((i % 2 ? b : a).url, 'GET', '/chats/')).status);
    // Each instance saw only 4: an in-memory limit of 6 would have let all 8 through.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
  });
});
