import Redis from 'ioredis';
import type { Logger } from '../http/logging';
import type { Metrics } from '../http/metrics';

export type ChatChangeKind =
  | 'CREATED'
  | 'UPDATED'
  | 'DELETED'
  | 'MOVED'
  | 'TAGGED'
  | 'PINNED'
  | 'UNPINNED'
  | 'ARCHIVED'
  | 'UNARCHIVED'
  | 'SHARED'
  | 'UNSHARED'
  | 'BRANCH_SWITCHED';

/**
 * What subscriptions listen to. Payloads carry IDs, not rows: subscribers read the row from the
 * database, so an event means the same on every instance and survives the trip through Redis.
 */
export type Events = {
  message_added: { message_id: number };
  message_updated: { message_id: number; delta: string; complete: boolean };
  chat_changed: { chat_id: number; kind: ChatChangeKind };
  /** A budget alert was raised (one topic, id 0: admins hear every alert). */
  budget_alert: { alert_id: number };
  /** Feedback on an AI answer was given or changed (one topic, id 0: admins hear all of it). */
  feedback_given: { message_id: number };
};
export type Topic = keyof Events;

/** What a subscriber receives: the events, or once it fell too far behind, `overflow`. */
export type EventStream<T> = AsyncIterableIterator<T> & { readonly overflowed: boolean };

type Listener = (payload: unknown) => void;

/**
 * What a queued event weighs, in characters: a small fixed part, plus the text of a streamed
 * delta, which can be up to MAX_MESSAGE_LENGTH. Queues are bounded by weight too, so a subscriber
 * of streamed answers holds at most MAX_QUEUED_WEIGHT however big the deltas are.
 */
const weightOf = (payload: unknown) => {
  const delta = (payload as { delta?: unknown } | null)?.delta;
  return 64 + (typeof delta === 'string' ? delta.length : 0);
};
const MAX_QUEUED_WEIGHT = 256 * 1024;

/**
 * A subscriber's queue. Publishing only ever appends to it and never throws: a subscriber that
 * falls `capacity` events behind (it stopped reading, or reads slower than others write) is cut
 * off, its queue dropped, and its stream ends with `overflowed` set. Nothing it does reaches the
 * publisher, the other subscribers or the process (yoga's pub/sub threw from the listener).
 */
function boundedStream<T>(
  capacity: number,
  metrics: Pick<Metrics, 'increment'>,
  detach: () => void,
  onOverflow?: () => void,
): { push: Listener; stream: EventStream<T> } {
  const queue: T[] = [];
  let weight = 0;
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  let ended = false;
  let overflowed = false;

  const end = () => {
    if (ended) return;
    ended = true;
    queue.length = 0;
    weight = 0;
    detach();
    waiting?.({ value: undefined, done: true });
    waiting = null;
  };

  const push: Listener = (payload) => {
    if (ended) return;
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve({ value: payload as T, done: false });
      return;
    }
    if (queue.length >= capacity || weight + weightOf(payload) > MAX_QUEUED_WEIGHT) {
      overflowed = true;
      metrics.increment('subscribers_cut_off_total');
      end();
      onOverflow?.();
      return;
    }
    queue.push(payload as T);
    weight += weightOf(payload);
  };

  const stream: EventStream<T> = {
    get overflowed() {
      return overflowed;
    },
    next: () => {
      if (queue.length > 0) {
        const value = queue.shift() as T;
        weight -= weightOf(value);
        return Promise.resolve({ value, done: false });
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return: () => {
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { push, stream };
}

/** Where events travel between instances: nowhere (one process), or Redis pub/sub. */
interface Transport {
  /** Sends to every instance; `undelivered` is called if that is impossible (Redis unreachable). */
  publish(channel: string, message: string, undelivered: () => void): void;
  /** Starts (or stops) relaying a channel's messages to `deliver`. */
  listen(channel: string): void;
  unlisten(channel: string): void;
  close(): Promise<void>;
}

/**
 * Redis pub/sub that may fail at any time without taking the process down: a publish while Redis
 * is unreachable is dropped at once (logged, counted) rather than queued, and the subscriber
 * connection re-subscribes every channel in use each time it (re)connects, so live updates come
 * back by themselves when Redis does.
 */
function redisTransport(
  url: string,
  deliver: (channel: string, message: string) => void,
  { logger, metrics }: Observers,
): Transport {
  const channels = new Set<string>();
  let down = false;
  const failed = (operation: string) => (error: unknown) => {
    metrics.increment('dependency_errors_total', { dependency: 'redis', operation });
    if (!down) logger.warn({ err: error, operation }, 'events: Redis unavailable; live updates stay in this instance');
    down = true;
  };
  // No offline queue and a timeout: a publish never waits on a Redis that is gone or hangs.
  const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 });
  const subscriber = new Redis(url, { autoResubscribe: false, maxRetriesPerRequest: null });
  for (const client of [publisher, subscriber]) {
    // ioredis reconnects by itself; without an 'error' listener its errors would be unhandled.
    client.on('error', failed('connection'));
  }
  subscriber.on('ready', () => {
    if (down) logger.info('events: Redis reachable again');
    down = false;
    if (channels.size > 0) subscriber.subscribe(...channels).catch(failed('subscribe'));
  });
  subscriber.on('message', deliver);
  return {
    publish: (channel, message, undelivered) => {
      if (publisher.status !== 'ready') {
        failed('publish')(new Error(`Redis connection is ${publisher.status}`));
        undelivered();
        return;
      }
      publisher.publish(channel, message).catch((error: unknown) => {
        failed('publish')(error);
        undelivered();
      });
    },
    listen: (channel) => {
      channels.add(channel);
      if (subscriber.status === 'ready') subscriber.subscribe(channel).catch(failed('subscribe'));
    },
    unlisten: (channel) => {
      channels.delete(channel);
      if (subscriber.status === 'ready') subscriber.unsubscribe(channel).catch(failed('unsubscribe'));
    },
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/** The IPC message a worker sends (and the primary relays) with an event for the other workers. */
export const RELAYED_EVENT = 'chat-gateway:event';
export type RelayedEvent = { [RELAYED_EVENT]: { channel: string; message: string } };

export const isRelayedEvent = (message: unknown): message is RelayedEvent =>
  typeof message === 'object' && message !== null && RELAYED_EVENT in message;

/**
 * Between the workers of one cluster (WEB_CONCURRENCY) when there is no Redis: an event is
 * delivered here at once and sent to the primary, which hands it to every other worker.
 */
function clusterTransport(deliver: (channel: string, message: string) => void, { logger }: Observers): Transport {
  const onMessage = (message: unknown) => {
    if (isRelayedEvent(message)) deliver(message[RELAYED_EVENT].channel, message[RELAYED_EVENT].message);
  };
  process.on('message', onMessage);
  return {
    publish: (channel, message) => {
      deliver(channel, message);
      if (!process.connected || !process.send) return;
      // A send fails only while this worker is leaving the cluster; its subscribers heard it above.
      process.send({ [RELAYED_EVENT]: { channel, message } }, undefined, {}, (error) => {
        if (error) logger.warn({ err: error }, 'events: could not pass an event to the other workers');
      });
    },
    listen: () => undefined,
    unlisten: () => undefined,
    close: async () => {
      process.off('message', onMessage);
    },
  };
}

export type EventBus = {
  /** Tells every subscriber of `topic` for `id`, on this instance and (with Redis) the others. Never throws. */
  publish<K extends Topic>(topic: K, id: number, payload: Events[K]): void;
  /** The events of `topic` for `id` from now on, queued up to `capacity` (SSE_MAX_QUEUED_EVENTS). */
  subscribe<K extends Topic>(topic: K, id: number, onOverflow?: () => void): EventStream<Events[K]>;
  close(): Promise<void>;
};

type Observers = { logger: Pick<Logger, 'warn' | 'info'>; metrics: Pick<Metrics, 'increment'> };

/**
 * In this process, or through Redis (REDIS_URL) so a subscriber on one instance sees writes on
 * another; without Redis, `clusterWorker` relays events between the workers of this machine.
 */
export function createEventBus(
  options: { redisUrl: string | null; prefix: string; capacity: number; clusterWorker?: boolean } & Observers,
): EventBus {
  const { logger } = options;
  const listeners = new Map<string, Set<Listener>>();
  // Channels carry REDIS_PREFIX, so deployments sharing one Redis do not hear each other.
  const channelOf = (topic: string, id: number) => `${options.prefix}${topic}:${id}`;

  const deliver = (channel: string, payload: unknown) => {
    const set = listeners.get(channel);
    if (set) for (const listener of set) listener(payload);
  };
  const deliverMessage = (channel: string, message: string) => {
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      logger.warn({ channel }, 'events: ignored a message that is not JSON');
      return;
    }
    deliver(channel, payload);
  };
  const transport = options.redisUrl
    ? redisTransport(options.redisUrl, deliverMessage, options)
    : options.clusterWorker
      ? clusterTransport(deliverMessage, options)
      : null;

  return {
    publish(topic, id, payload) {
      const channel = channelOf(topic, id);
      // Without Redis, this instance's subscribers still hear this instance's writes.
      if (transport) transport.publish(channel, JSON.stringify(payload), () => deliver(channel, payload));
      else deliver(channel, payload);
    },
    subscribe(topic, id, onOverflow) {
      const channel = channelOf(topic, id);
      const detach = () => {
        const set = listeners.get(channel);
        set?.delete(push);
        if (set?.size === 0) {
          listeners.delete(channel);
          transport?.unlisten(channel);
        }
      };
      const { push, stream } = boundedStream<never>(options.capacity, options.metrics, detach, onOverflow);
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        transport?.listen(channel);
      }
      set.add(push);
      return stream;
    },
    close: async () => {
      await transport?.close();
    },
  };
}
