import type { Context } from '../../graphql/context';
import type { ChatChangeKind } from '../../graphql/pubsub';

/** Tells the owner's chat_changed subscribers. Anonymous chats have no one to tell. */
export function publishChatChange(
  ctx: Pick<Context, 'pubsub'>,
  userId: number | null | undefined,
  chatId: number,
  kind: ChatChangeKind,
): void {
  if (userId != null) ctx.pubsub.publish('chat_changed', userId, { chat_id: chatId, kind });
}

type Organisation = { folder_id: number | null; tags: readonly string[]; pinned: boolean; archived: boolean };

/**
 * What an update of a chat that stays with its owner tells subscribers: one event per kind of
 * change, in a fixed order, and only for what actually changed (pinning a pinned chat says
 * nothing). A rename says UPDATED whenever a title was given, as it always has.
 */
export function organisationChanges(
  renamed: boolean,
  before: Organisation,
  after: Partial<Organisation>,
): ChatChangeKind[] {
  const kinds: ChatChangeKind[] = renamed ? ['UPDATED'] : [];
  if (after.folder_id !== undefined && after.folder_id !== before.folder_id) kinds.push('MOVED');
  if (after.tags !== undefined && [...after.tags].sort().join('\n') !== [...before.tags].sort().join('\n')) {
    kinds.push('TAGGED');
  }
  if (after.pinned !== undefined && after.pinned !== before.pinned) kinds.push(after.pinned ? 'PINNED' : 'UNPINNED');
  if (after.archived !== undefined && after.archived !== before.archived) {
    kinds.push(after.archived ? 'ARCHIVED' : 'UNARCHIVED');
  }
  return kinds;
}
