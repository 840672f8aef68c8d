import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Gateway, startGateway, stopGateway } from '../../support/gateway-process';
import { housePricesFile } from '../../support/settings';

/*
 * Budget alerts reach ALERT_WEBHOOK_URL from real gateway processes: signed, retried until the
 * receiver accepts, and never lost, even when the process is killed between the usage write
 * and the alert's delivery.
 */

const SECRET = 'a-webhook-secret-of-some-length';
const ADMIN = { 'x-admin-api-key': 'test-admin-key' };

type Delivery = { headers: IncomingHttpHeaders; body: string; answered: number };

/** A receiver that answers each POST with the next status of `answers` (the last one repeats). */
async function receiver(answers: number[]) {
  const deliveries: Delivery[] = [];
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = answers[Math.min(next++, answers.length - 1)] as number;
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/budget`,
    deliveries,
    answer(statuses: number[]) {
      answers.splice(0, answers.length, ...statuses);
      next = 0;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function send(g: Gateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(g.url + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** A user with a $1 daily budget alerting at 50%, and a call of $0.60 that crosses it. */
async function crossHalf(g: Gateway): Promise<number> {
  const user = await send(g, 'POST', '/chats/users', {
    username: 'spender',
    email: `spender-${process.pid}-${Date.now()}@example.com`,
  });
  const budget = await send(
    g,
    'PUT',
    '/budgets',
    { scope: 'user', user_id: user.user_id, period: 'day', limit_usd: 1, alert_percents: [50] },
    ADMIN,
  );
  await send(g, 'POST', '/usage', {
    user_id: user.user_id,
    model_name: 'house-model',
    prompt_tokens: 600_000,
    completion_tokens: 0,
  });
  return budget.budget_id;
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const settings = (url: string) => ({
  ...housePricesFile(),
  ALERT_WEBHOOK_URL: url,
  ALERT_WEBHOOK_SECRET: SECRET,
  ALERT_WEBHOOK_RETRY_MS: '200',
});

describe('budget alert webhooks', () => {
  it('are signed, and retried with backoff until the receiver answers 2xx', async () => {
    const hook = await receiver([503, 500, 204]);
    const g = await startGateway(settings(hook.url));
    try {
      const budgetId = await crossHalf(g);
      await until('three deliveries', () => (hook.deliveries.length >= 3 ? true : undefined));
      const [first, , third] = hook.deliveries as [Delivery, Delivery, Delivery];
      expect(hook.deliveries.map((d) => d.answered)).toEqual([503, 500, 204]);
      // One alert, the same id each time: a receiver deduplicates on webhook-id.
      expect(new Set(hook.deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
      for (const d of hook.deliveries) {
        const id = d.headers['webhook-id'] as string;
        const timestamp = d.headers['webhook-timestamp'] as string;
        const expected = createHmac('sha256', SECRET).update(`${id}.${timestamp}.${d.body}`).digest('base64');
        expect(d.headers['webhook-signature']).toBe(`v1,${expected}`);
        expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      }
      expect(JSON.parse(third.body)).toMatchObject({
        type: 'budget.alert',
        budget_id: budgetId,
        scope: 'user',
        period: 'day',
        threshold: 50,
        spent_usd: 0.6,
        limit_usd: 1,
      });
      expect(first.body).toBe(third.body);
      const alerts = await until('the delivery to be recorded', async () => {
        const list = await send(g, 'GET', `/budgets/${budgetId}/alerts`, undefined, ADMIN);
        return list[0]?.delivered_at ? list : undefined;
      });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ threshold: 50, attempts: 3, last_error: null });
      // Nothing more is sent once accepted.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(hook.deliveries).toHaveLength(3);
    } finally {
      await stopGateway(g);
      await hook.close();
    }
  });

  it('are not lost when the process is killed before delivering: the next process sends them', async () => {
    const hook = await receiver([503]);
    const first = await startGateway(settings(hook.url));
    let second: Gateway | undefined;
    try {
      const budgetId = await crossHalf(first);
      // Killed with the alert written but not delivered (the receiver refuses it so far).
      await until('a refused delivery', () => (hook.deliveries.length >= 1 ? true : undefined));
      first.process.kill('SIGKILL');
      await first.exited;
      hook.answer([200]);
      second = await startGateway(settings(hook.url));
      const gateway = second;
      // Killed in the middle of an attempt, the alert stays claimed for 30 s (longer than a POST
      // may take, so that no two instances send it at once); then the next process sends it.
      const alerts = await until(
        'the alert delivered by the next process',
        async () => {
          const list = await send(gateway, 'GET', `/budgets/${budgetId}/alerts`, undefined, ADMIN);
          return list[0]?.delivered_at ? list : undefined;
        },
        45_000,
      );
      expect(alerts).toHaveLength(1);
      expect(hook.deliveries.at(-1)?.answered).toBe(200);
      expect(JSON.parse(hook.deliveries.at(-1)?.body ?? '{}')).toMatchObject({ budget_id: budgetId, threshold: 50 });
    } finally {
      if (first.process.exitCode === null && first.process.signalCode === null) first.process.kill('SIGKILL');
      await stopGateway(second);
      await hook.close();
    }
  }, 60_000);
});
