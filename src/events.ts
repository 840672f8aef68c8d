import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import Redis from 'ioredis';
import { config } from './config';
import { logger } from './logger';

export type ChatChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

/**
 * What subscriptions listen to. Payloads carry IDs, not rows: subscribers read the row from the
 * database, so an event means the same on every instance and survives the trip through Redis.
 */
type Events = {
  message_added: [chatId: number, payload: { message_id: number }];
  message_updated: [chatId: number, payload: { message_id: number; delta: string; complete: boolean }];
  chat_changed: [userId: number, payload: { chat_id: number; kind: ChatChangeKind }];
};

function redisEventTarget(url: string) {
  // Redis wants one connection for publishing and another, dedicated, for subscribing.
  const connect = () => {
    const client = new Redis(url, { maxRetriesPerRequest: 2 });
    client.on('error', (error) => logger.warn({ err: error }, 'events: Redis error'));
    return client;
  };
  const target = createRedisEventTarget<CustomEvent>({ publishClient: connect(), subscribeClient: connect() });
  // Channels carry REDIS_PREFIX, so deployments sharing one Redis do not hear each other.
  const channel = (topic: string) => `${config.redisPrefix}${topic}`;
  return {
    addEventListener: (topic: string, listener: EventListenerOrEventListenerObject | null) =>
      target.addEventListener(channel(topic), listener as never),
    removeEventListener: (topic: string, listener: EventListenerOrEventListenerObject | null) =>
      target.removeEventListener(channel(topic), listener as never),
    dispatchEvent: (event: CustomEvent) =>
      target.dispatchEvent(new CustomEvent(channel(event.type), { detail: event.detail })),
  };
}

/** In this process, or through Redis (REDIS_URL) so a subscriber on one instance sees writes on another. */
export const pubsub = createPubSub<Events>(
  config.redisUrl ? { eventTarget: redisEventTarget(config.redisUrl) as never } : {},
);
