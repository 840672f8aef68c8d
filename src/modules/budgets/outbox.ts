import { createHmac } from 'node:crypto';
import type { AlertWebhookConfig } from '../../config';
import type { Services } from '../../graphql/context';
import type { Period } from './periods';
import { periodAt } from './periods';
import { usd } from './spend';

/*
 * Delivery of budget alerts to ALERT_WEBHOOK_URL. Alerts are rows (BudgetAlert) written in the
 * transaction of the usage record that raised them, so none is lost when a process dies between
 * the write and the delivery: whichever instance runs next finds it undelivered and sends it.
 *
 * Each delivery is one POST, signed as Standard Webhooks signs (webhook-id, webhook-timestamp,
 * webhook-signature: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`), retried with doubling
 * delays (ALERT_WEBHOOK_RETRY_MS, then twice that, ... up to an hour) until the receiver answers
 * 2xx. Delivery is at least once: a receiver should treat `webhook-id` as an idempotency key.
 */

/** How long a claimed delivery is an instance's before another may try it (a POST times out sooner). */
const CLAIM_MS = 30_000;
const POST_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 3_600_000;
const BATCH = 20;

/** The key as Standard Webhooks has it (`whsec_` + base64), or any other text as its UTF-8 bytes. */
function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** The signature headers of one delivery. */
export function signatureHeaders(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

type Deps = Pick<Services, 'db' | 'logger' | 'config'>;

/** What the receiver is sent: the alert, with its budget. */
async function payloadOf(deps: Deps, alertId: number) {
  const alert = await deps.db.budgetAlert.findUnique({ where: { alert_id: alertId }, include: { budget: true } });
  if (!alert) return null;
  const { budget } = alert;
  return {
    type: 'budget.alert',
    alert_id: alert.alert_id,
    budget_id: budget.budget_id,
    scope: budget.scope,
    user_id: budget.user_id,
    api_key_id: budget.api_key_id,
    period: budget.period,
    time_zone: budget.time_zone,
    period_start: alert.period_start.toISOString(),
    period_end: periodAt(budget.period as Period, alert.period_start, budget.time_zone).end.toISOString(),
    threshold: alert.threshold,
    spent_usd: usd(alert.spent_micros),
    limit_usd: usd(alert.limit_micros),
    created_at: alert.created_at.toISOString(),
  };
}

export function createAlertOutbox(deps: Deps) {
  const webhook: AlertWebhookConfig | null = deps.config.alertWebhook;
  const { db, logger } = deps;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const inflight = new Set<AbortController>();

  async function deliver(alertId: number, attempts: number, hook: AlertWebhookConfig): Promise<void> {
    const payload = await payloadOf(deps, alertId);
    if (!payload) return;
    const body = JSON.stringify(payload);
    const id = `budget-alert-${alertId}`;
    const controller = new AbortController();
    inflight.add(controller);
    const timeout = setTimeout(() => controller.abort(), POST_TIMEOUT_MS);
    let failure: string | null = null;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signatureHeaders(hook.secret, id, Math.floor(Date.now() / 1000), body),
        },
        body,
        signal: controller.signal,
        // A redirect is no delivery (fetch would follow a 302 with a GET and call that a success).
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) failure = `HTTP ${res.status}`;
    } catch (error) {
      failure =
        error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'failed';
    } finally {
      clearTimeout(timeout);
      inflight.delete(controller);
    }
    // Cut short by shutdown: not the receiver's failure. The claim lapses, and it is sent again.
    if (stopping && failure !== null) return;
    if (failure === null) {
      await db.budgetAlert.update({
        where: { alert_id: alertId },
        data: { delivered_at: new Date(), last_error: null },
      });
      logger.info({ alert_id: alertId, attempts }, 'budget alert delivered');
      return;
    }
    const delay = Math.min(hook.retryMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
    await db.budgetAlert.update({
      where: { alert_id: alertId },
      data: { next_attempt_at: new Date(Date.now() + delay), last_error: failure.slice(0, 500) },
    });
    logger.warn({ alert_id: alertId, attempts, retry_in_ms: delay, error: failure }, 'budget alert not delivered');
  }

  /** Sends every alert that is due, claiming each first so that two instances never send it at once. */
  async function drain(hook: AlertWebhookConfig): Promise<void> {
    while (!stopping) {
      const due = await db.budgetAlert.findMany({
        where: { delivered_at: null, next_attempt_at: { lte: new Date() } },
        orderBy: { alert_id: 'asc' },
        select: { alert_id: true, attempts: true },
        take: BATCH,
      });
      if (due.length === 0) return;
      for (const alert of due) {
        if (stopping) return;
        // The claim: only the instance whose update finds the attempt count unchanged sends it.
        const { count } = await db.budgetAlert.updateMany({
          where: { alert_id: alert.alert_id, delivered_at: null, attempts: alert.attempts },
          data: { attempts: alert.attempts + 1, next_attempt_at: new Date(Date.now() + CLAIM_MS) },
        });
        if (count === 1) await deliver(alert.alert_id, alert.attempts + 1, hook);
      }
    }
  }

  /** One pass over what is due (another is queued if asked for during this one). */
  function run(): Promise<void> {
    if (!webhook) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await drain(webhook);
        } catch (error) {
          logger.error({ err: error }, 'budget alert delivery failed');
        }
      } while (again && !stopping);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule() {
    if (!webhook || stopping) return;
    // Polling finds retries that came due and alerts written by other instances.
    timer = setTimeout(
      () => {
        void run().finally(schedule);
      },
      Math.min(webhook.retryMs, 5000),
    );
    timer.unref();
  }

  return {
    /** Delivers what is due now (after a write that raised alerts, say). */
    nudge(): void {
      void run();
    },
    /** Runs one pass and waits for it (tests). */
    deliverDue: run,
    start(): void {
      schedule();
      void run();
    },
    async stop(): Promise<void> {
      stopping = true;
      clearTimeout(timer);
      for (const controller of inflight) controller.abort();
      await running?.catch(() => undefined);
    },
  };
}

export type AlertOutbox = ReturnType<typeof createAlertOutbox>;
