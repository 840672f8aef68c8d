import { createEventBus } from '../../src/graphql/pubsub';
import { createLogger } from '../../src/http/logging';
import { createMetrics } from '../../src/http/metrics';

// The bus alone (no HTTP): what a subscriber may hold when it does not read.
describe('a subscriber’s queue', () => {
  const bus = createEventBus({
    redisUrl: null,
    prefix: 'test:',
    capacity: 1000,
    logger: createLogger('error'),
    metrics: createMetrics(),
  });

  it('is bounded by count: the subscriber is cut off, the publisher never throws', async () => {
    let cut = 0;
    const stream = bus.subscribe('message_added', 1, () => {
      cut += 1;
    });
    for (let i = 0; i < 5_000; i++) bus.publish('message_added', 1, { message_id: i });
    expect(cut).toBe(1);
    expect(stream.overflowed).toBe(true);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('is bounded by size: a few huge deltas cut it off long before the count', async () => {
    const stream = bus.subscribe('message_updated', 2);
    const delta = 'x'.repeat(100_000);
    for (let i = 0; i < 10; i++) bus.publish('message_updated', 2, { message_id: 1, delta, complete: false });
    expect(stream.overflowed).toBe(true);
  });

  it('keeps a reader that keeps up, in order', async () => {
    const stream = bus.subscribe('message_added', 3);
    for (let i = 0; i < 3; i++) bus.publish('message_added', 3, { message_id: i });
    const got = [await stream.next(), await stream.next(), await stream.next()].map((r) => r.value);
    expect(got).toEqual([{ message_id: 0 }, { message_id: 1 }, { message_id: 2 }]);
    expect(stream.overflowed).toBe(false);
    await stream.return?.();
  });
});
