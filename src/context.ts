import { createHash, timingSafeEqual } from 'node:crypto';
import type { YogaInitialContext } from 'graphql-yoga';
import { config } from './config';

/** Who is calling. Built once per request, for GraphQL and REST alike. */
export type Context = Readonly<{
  /** The caller presented the configured admin key (`X-Admin-API-Key`). */
  isAdmin: boolean;
}>;

const digest = (value: string) => createHash('sha256').update(value).digest();

// Comparing digests keeps the comparison constant-time whatever the length of the given key.
function isAdminKey(given: string | null): boolean {
  if (config.adminApiKey === null || given === null) return false;
  return timingSafeEqual(digest(given), digest(config.adminApiKey));
}

export function createContext({ request }: YogaInitialContext): Context {
  return { isAdmin: isAdminKey(request.headers.get('x-admin-api-key')) };
}
