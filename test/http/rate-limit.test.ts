import { MemoryCounter } from '../../src/http/rate-limit';
import { configureGateway } from '../support/gateway';
import { call, gql } from '../support/http';
import { RATE_LIMITED } from '../support/settings';

configureGateway(RATE_LIMITED);

// yoga.fetch has no socket, so every request here comes from the same "unknown" address; callers
// with an identity (the admin key) are counted apart.
describe('rate limiting (RATE_LIMIT_PER_MINUTE=5)', () => {
  it('answers the sixth request of a minute with 429 and Retry-After, on REST and GraphQL alike', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call('GET', '/chats/')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const rest = await call('GET', '/chats/');
    expect(rest.status).toBe(429);
    expect(typeof rest.json.detail).toBe('string');
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    const graphql = await gql('{ chats { chat_id } }');
    expect(graphql.status).toBe(429);
    expect(graphql.json.errors[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('counts a caller with an identity separately, and never limits health checks', async () => {
    expect((await call('GET', '/chats/', undefined, { 'x-admin-api-key': 'test-admin-key' })).status).toBe(200);
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/ready')).status).toBe(200);
  });
});

describe('the in-process counter', () => {
  it('tracks a bounded number of callers, forgetting the oldest windows first', async () => {
    const counter = new MemoryCounter(3);
    for (const caller of ['a', 'b', 'c', 'd', 'e']) await counter.hit(caller);
    expect(counter.size).toBe(3);
    expect((await counter.hit('e')).count).toBe(2);
    expect((await counter.hit('a')).count).toBe(1);
  });
});
