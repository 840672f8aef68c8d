import type { Prisma } from '../../generated/prisma/client';
import { limitUpTo } from '../../graphql/args';
import type { Context } from '../../graphql/context';
import { badInput } from '../../graphql/errors';
import { type BranchState, messagesByIds, pathTo } from './branches';
import type { MessageRow } from './types';

/**
 * A position in a chat's message order, opaque to clients. The order is the order of message IDs:
 * IDs come from one sequence, so they agree on every path and instance; timestamps, taken before
 * the insert, may not under concurrent writes. Cursors made before this rule carried a timestamp
 * too (`<ms>:<id>`); they still decode, by their ID.
 */
export function encodeCursor(message: { message_id: number }): string {
  return Buffer.from(String(message.message_id)).toString('base64url');
}

function decodeCursor(value: string, name: string): number {
  const match = Buffer.from(value, 'base64url')
    .toString()
    .match(/^(?:\d{1,15}:)?(\d{1,10})$/);
  const id = Number(match?.[1]);
  if (!match || id >= 2 ** 31) throw badInput(`${name}: is not a cursor from this API`);
  return id;
}

type PageRequest = {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
};
export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;
export const pageSize = limitUpTo(MAX_PAGE);

/**
 * One page of a chat's messages (its active branch), oldest first within the page, by keyset (no OFFSET, so a
 * 5,000-message chat pages as fast at the end as at the start). Forward with first/after,
 * backward with last/before; neither: the newest page.
 */
export async function pageMessages(
  ctx: Context,
  chat: BranchState,
  page: PageRequest,
  query: object,
): Promise<{
  nodes: MessageRow[];
  hasNext: boolean;
  hasPrevious: boolean;
}> {
  if (page.first != null && page.last != null) throw badInput('Give first or last, not both');
  for (const [name, n] of [
    ['first', page.first],
    ['last', page.last],
  ] as const) {
    if (n != null && (n < 1 || n > MAX_PAGE)) throw badInput(`${name}: must be from 1 to ${MAX_PAGE}`);
  }
  const forward = page.first != null || (page.after != null && page.before == null);
  const size = (forward ? page.first : page.last) ?? DEFAULT_PAGE;
  const after = page.after != null ? decodeCursor(page.after, 'after') : null;
  const before = page.before != null ? decodeCursor(page.before, 'before') : null;
  const direction = forward ? 'asc' : 'desc';
  let rows: MessageRow[];
  if (chat.branched && chat.active_leaf_id != null) {
    // The active branch: IDs increase along it, so the cursors work on a branch as on a whole
    // chat; the page is cut from the path's IDs, then read.
    const ids = (await pathTo(ctx.db, chat.chat_id, chat.active_leaf_id)).filter(
      (id) => (after == null || id > after) && (before == null || id < before),
    );
    const picked = forward ? ids.slice(0, size + 1) : ids.slice(-(size + 1));
    rows = await messagesByIds(ctx.db, picked, query);
    if (!forward) rows.reverse();
  } else {
    const where: Prisma.MessageWhereInput = {
      chat_id: chat.chat_id,
      AND: [
        ...(after != null ? [{ message_id: { gt: after } }] : []),
        ...(before != null ? [{ message_id: { lt: before } }] : []),
      ],
    };
    rows = await ctx.db.message.findMany({ ...query, where, orderBy: { message_id: direction }, take: size + 1 });
  }
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (!forward) nodes.reverse();
  return {
    nodes,
    hasNext: forward ? more : page.before != null,
    hasPrevious: forward ? page.after != null : more,
  };
}
