import type { Prisma } from '../../generated/prisma/client';
import { textSchema } from '../../graphql/args';
import type { Context } from '../../graphql/context';
import { badInput } from '../../graphql/errors';

/*
 * Organising chats (issue: organise chats): tags, and the filters of the chat list. Folders are
 * their own domain (modules/folders); a chat points at one.
 */

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 32;

const tagSchema = textSchema(MAX_TAG_LENGTH);

/** One tag's text rules (a stored tag, or one a filter names): BAD_USER_INPUT under `field` otherwise. */
function assertTag(field: string, raw: string): void {
  const parsed = tagSchema.safeParse(raw);
  if (!parsed.success) {
    throw badInput(`${field}: "${raw.slice(0, 40)}" ${parsed.error.issues[0]?.message ?? 'is not a valid tag'}`);
  }
}

/**
 * A chat's tags as stored: trimmed, lower-case, each once, in the order given. A tag may not hold
 * a comma, which separates tags in a query string (`GET /chats/?tag=a,b`).
 */
export function normalizeTags(tags: readonly string[]): string[] {
  const unique = new Set<string>();
  for (const raw of tags) {
    assertTag('tags', raw);
    if (raw.includes(',')) throw badInput(`tags: "${raw.slice(0, 40)}" must not contain a comma`);
    unique.add(raw.trim().toLowerCase());
  }
  if (unique.size > MAX_TAGS) throw badInput(`tags: a chat has at most ${MAX_TAGS} tags`);
  return [...unique];
}

export type ChatFilters = {
  folder_id?: number | null;
  tag?: readonly string[] | null;
  pinned?: boolean | null;
  archived?: boolean | null;
};

/** The chat list's filters, checked and normalised: what both the list and the search apply. */
export type CheckedFilters = { folder_id: number | null; tags: string[]; pinned: boolean | null; archived: boolean };

/**
 * Checks the filters: tags follow the stored tags' text rules (a NUL, say, is bad input here too,
 * not a database error). Archived chats are left out unless asked for (`archived: true` lists
 * only them), so clients that never archive see the list they always saw.
 */
export function checkFilters({ folder_id, tag, pinned, archived }: ChatFilters): CheckedFilters {
  if (tag && tag.length > MAX_TAGS) throw badInput(`tag: at most ${MAX_TAGS}`);
  for (const t of tag ?? []) {
    assertTag('tag', t);
  }
  return {
    folder_id: folder_id ?? null,
    tags: [...new Set(tag?.map((t) => t.trim().toLowerCase()) ?? [])],
    pinned: pinned ?? null,
    archived: archived ?? false,
  };
}

/** The chat list's filters as a Prisma condition. */
export function chatFilters(filters: ChatFilters): Prisma.ChatWhereInput {
  const { folder_id, tags, pinned, archived } = checkFilters(filters);
  return {
    archived,
    ...(pinned === null ? {} : { pinned }),
    ...(folder_id === null ? {} : { folder_id }),
    ...(tags.length === 0 ? {} : { AND: tags.map((t) => ({ tags: { some: { tag: t } } })) }),
  };
}

/**
 * The folder a chat of `ownerId` may be put in: one of that user's. An anonymous chat has no
 * folders to go in. Throws BAD_USER_INPUT otherwise (a folder of another user reads as unknown).
 */
export async function assertFolderFor(ctx: Context, folderId: number, ownerId: number | null): Promise<void> {
  if (ownerId === null) throw badInput('folder_id: an anonymous chat cannot be put in a folder');
  const folder = await ctx.db.folder.findFirst({
    where: { folder_id: folderId, user_id: ownerId },
    select: { folder_id: true },
  });
  if (!folder) throw badInput(`folder_id: folder ${folderId} not found`);
}
