import type { YogaInitialContext } from 'graphql-yoga';
import { authenticate, type Identity } from '../auth/identify';

/** Who is calling. Built once per request, for GraphQL and REST alike. */
export type Context = Identity;

/**
 * The rate limiter (src/limits.ts) may have established the caller already, on the server
 * context that GraphQL and SOFA requests share; otherwise it is done here.
 */
export async function createContext(initial: YogaInitialContext & { identity?: Promise<Identity> }): Promise<Context> {
  return (await initial.identity) ?? authenticate(initial.request);
}
