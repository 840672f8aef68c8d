import { configureGateway } from '../../support/gateway';
import { call } from '../../support/http';
import { housePricesFile } from '../../support/settings';

configureGateway(housePricesFile());

describe('a price change', () => {
  afterEach(() => jest.useRealTimers());

  it('prices new calls at the new price and leaves recorded costs alone', async () => {
    const body = { model_name: 'house-model', prompt_tokens: 1_000_000, completion_tokens: 1_000_000, user_id: null };
    const before = await call('POST', '/usage', body);
    expect(before.json).toMatchObject({ cost: 3, input_price: 1, output_price: 2 });

    // Only Date moves: Prisma, Yoga and the sockets keep their real timers.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'setTimeout',
        'setInterval',
        'clearTimeout',
        'clearInterval',
        'clearImmediate',
        'queueMicrotask',
        'performance',
        'hrtime',
      ],
    });
    jest.setSystemTime(new Date('2031-06-01T00:00:00Z'));
    const after = await call('POST', '/usage', body);
    expect(after.json).toMatchObject({ cost: 30, input_price: 10, output_price: 20 });

    const summary = await call('GET', '/usage/summary?group_by=MODEL&to=2032-01-01');
    expect(summary.json.rows).toEqual([expect.objectContaining({ model_name: 'house-model', requests: 2, cost: 33 })]);
  });
});
