import type { Prisma } from '../generated/prisma/client';
import type { Identity } from './identify';

/** A caller as resolvers see it: who, and whether authentication is on. */
type Caller = Identity & { readonly auth: { readonly enabled: boolean } };

export type ActingAs = { allowed: true; userId: number | null | undefined } | { allowed: false };

/**
 * The user a request acts as, from the `user_id` the client gave. With authentication off it is
 * the client's word, as the documented API has it. With it on, an admin may name anyone, and
 * anyone else acts as themself: naming another user is not allowed.
 */
export function actingAs(caller: Caller, given: number | null | undefined): ActingAs {
  if (!caller.auth.enabled || caller.isAdmin) return { allowed: true, userId: given };
  if (given != null && given !== caller.userId) return { allowed: false };
  return { allowed: true, userId: caller.userId };
}

/**
 * The access rule of the chat routes: with a `user_id`, only that user's chats and anonymous
 * chats are reachable; anything else looks exactly like a chat that does not exist.
 */
export function accessibleChat(chatId: number, userId: number | null | undefined): Prisma.ChatWhereInput {
  return userId == null ? { chat_id: chatId } : { chat_id: chatId, OR: [{ user_id: null }, { user_id: userId }] };
}

/**
 * The access rule for a caller: who they act as (actingAs above), then the rule above. Null when
 * they name another user, which is answered like a missing chat.
 */
export function chatFor(ctx: Caller, chatId: number, givenUserId: number | null | undefined) {
  const who = actingAs(ctx, givenUserId);
  return who.allowed ? accessibleChat(chatId, who.userId) : null;
}

export const ownerOf = (who: ActingAs & { allowed: true }) => (who.userId == null ? {} : { user_id: who.userId });

/** The API key a caller presented (AUTH_MODE=api-key), whose budgets its model calls count towards; else null. */
export function apiKeyIdOf(caller: Pick<Identity, 'credential'>): number | null {
  return caller.credential && 'apiKeyId' in caller.credential ? caller.credential.apiKeyId : null;
}
