// The folders domain: a user's folders of chats, nested (issue: organise chats).
import { actingAs } from '../../auth/access';
import type { Prisma } from '../../generated/prisma/client';
import { textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { fixedList } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { badInput, forbidden, notFound } from '../../graphql/errors';
import { publishChatChange } from '../chats/events';
import { assertUserExists } from '../users';
import { checkPlacement, MAX_FOLDER_DEPTH } from './tree';

/** The most folders one user may have: a list a client shows whole, and checks load whole. */
export const MAX_FOLDERS_PER_USER = 1000;

const nameSchema = textSchema(100);

builder.prismaObject('Folder', {
  description: `A user’s folder of chats. Folders nest (\`parent_id\`) up to ${MAX_FOLDER_DEPTH} deep, without cycles.`,
  fields: (t) => ({
    folder_id: t.exposeInt('folder_id', { description: 'The folder’s ID.' }),
    user_id: t.exposeInt('user_id', { description: 'The owner’s user ID.' }),
    name: t.exposeString('name', { description: 'The folder’s name, 1 to 100 characters.' }),
    parent_id: t.exposeInt('parent_id', {
      nullable: true,
      description: 'The folder it is in; null at the top level.',
    }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When the folder was created.' }),
  }),
});

const DeleteFolderResult = builder.objectRef<{ message: string; moved_chats: number }>('DeleteFolderResult').implement({
  description: 'What `delete_folder` did: no chat is deleted with a folder.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'E.g. "Folder 12 deleted".' }),
    moved_chats: t.exposeInt('moved_chats', { description: 'Chats that were in it, now in no folder.' }),
  }),
});

/** Whose folders a request acts on: with authentication off, the `user_id` given (required here). */
function ownerFor(ctx: Context, givenUserId: number | null | undefined): number {
  const who = actingAs(ctx, givenUserId);
  if (!who.allowed) throw forbidden('You can only manage your own folders');
  if (who.userId == null) throw badInput('user_id: is required');
  return who.userId;
}

/**
 * The folder, if the caller may touch it: with a `user_id` (or authentication on), only that
 * user's; a folder of another user is answered like one that does not exist.
 */
async function reachableFolder(ctx: Context, folderId: number, givenUserId: number | null | undefined) {
  const who = actingAs(ctx, givenUserId);
  const folder =
    who.allowed &&
    (await ctx.db.folder.findFirst({
      where: { folder_id: folderId, ...(who.userId == null ? {} : { user_id: who.userId }) },
      select: { folder_id: true, user_id: true, parent_id: true },
    }));
  if (!folder) throw notFound(`Folder with ID ${folderId} not found or access denied`);
  return folder;
}

/**
 * Runs a change of one user's folder tree with the tree as it stands: on PostgreSQL the user's row
 * is locked first, so that two concurrent moves cannot each pass the cycle check and together make
 * a cycle (SQLite runs one write transaction at a time).
 */
function withFolderTree<T>(
  ctx: Context,
  userId: number,
  change: (tx: Prisma.TransactionClient, tree: { folder_id: number; parent_id: number | null }[]) => Promise<T>,
): Promise<T> {
  return ctx.db.$transaction(async (tx) => {
    if (ctx.config.database.provider === 'postgresql') {
      await tx.$executeRaw`SELECT 1 FROM "User" WHERE user_id = ${userId} FOR UPDATE`;
    }
    const tree = await tx.folder.findMany({ where: { user_id: userId }, select: { folder_id: true, parent_id: true } });
    return change(tx, tree);
  });
}

builder.queryField('folders', (t) =>
  t.prismaField({
    type: ['Folder'],
    description:
      'A user’s folders, in creation order (a client builds the tree from `parent_id`). With authentication on, your own.',
    authScopes: { member: true },
    complexity: fixedList(MAX_FOLDERS_PER_USER),
    args: { user_id: t.arg.int({ description: 'Whose folders; required while authentication is off.' }) },
    resolve: (query, _root, { user_id }, ctx) =>
      ctx.db.folder.findMany({ ...query, where: { user_id: ownerFor(ctx, user_id) }, orderBy: { folder_id: 'asc' } }),
  }),
);

builder.mutationFields((t) => ({
  create_folder: t.prismaField({
    type: 'Folder',
    description: `Creates a folder for a user, at the top level or inside another of their folders (at most ${MAX_FOLDER_DEPTH} deep).`,
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({ description: 'The owner’s user ID; must exist. With authentication on, yourself.' }),
      name: t.arg.string({ required: true, description: 'The name, 1 to 100 characters.', validate: nameSchema }),
      parent_id: t.arg.int({ description: 'The folder to create it in; one of the same user’s.' }),
    },
    resolve: async (query, _root, { user_id, name, parent_id }, ctx) => {
      const owner = ownerFor(ctx, user_id);
      await assertUserExists(ctx, owner);
      return withFolderTree(ctx, owner, async (tx, tree) => {
        if (tree.length >= MAX_FOLDERS_PER_USER) throw badInput(`A user has at most ${MAX_FOLDERS_PER_USER} folders`);
        checkPlacement(tree, null, parent_id ?? null);
        return tx.folder.create({
          ...query,
          data: { user_id: owner, name: name.trim(), parent_id: parent_id ?? null },
        });
      });
    },
  }),
  update_folder: t.prismaField({
    type: 'Folder',
    description:
      'Renames a folder and/or moves it: `parent_id` another of the owner’s folders, or null for the top level (absent: where it is). A move into itself or one of its sub-folders, or deeper than the limit, is refused.',
    authScopes: { member: true },
    args: {
      folder_id: t.arg.int({ required: true, description: 'The folder’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      name: t.arg.string({
        description: 'A new name, 1 to 100 characters.',
        validate: nameSchema.optional().nullable(),
      }),
      parent_id: t.arg.int({ description: 'The folder to move it into; null: to the top level.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const folder = await reachableFolder(ctx, args.folder_id, args.user_id);
      const moving = args.parent_id !== undefined;
      return withFolderTree(ctx, folder.user_id, async (tx, tree) => {
        if (moving) checkPlacement(tree, folder.folder_id, args.parent_id ?? null);
        const data = {
          ...(args.name == null ? {} : { name: args.name.trim() }),
          ...(moving ? { parent_id: args.parent_id ?? null } : {}),
        };
        const updated = await tx.folder.updateMany({ where: { folder_id: folder.folder_id }, data });
        if (updated.count === 0) throw notFound(`Folder with ID ${folder.folder_id} not found or access denied`);
        return tx.folder.findUniqueOrThrow({ ...query, where: { folder_id: folder.folder_id } });
      });
    },
  }),
  delete_folder: t.field({
    type: DeleteFolderResult,
    description:
      'Deletes a folder. Its chats move out to no folder and its sub-folders to its parent: no chat is ever deleted with a folder.',
    authScopes: { member: true },
    args: {
      folder_id: t.arg.int({ required: true, description: 'The folder’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (_root, { folder_id, user_id }, ctx) => {
      const folder = await reachableFolder(ctx, folder_id, user_id);
      const result = await withFolderTree(ctx, folder.user_id, async (tx) => {
        // The chats it moved, from the UPDATE itself (RETURNING): each one's subscribers hear MOVED.
        const chats = await tx.chat.updateManyAndReturn({
          where: { folder_id },
          data: { folder_id: null },
          select: { chat_id: true },
        });
        await tx.folder.updateMany({ where: { parent_id: folder_id }, data: { parent_id: folder.parent_id } });
        const deleted = await tx.folder.deleteMany({ where: { folder_id } });
        if (deleted.count === 0) throw notFound(`Folder with ID ${folder_id} not found or access denied`);
        return { message: `Folder ${folder_id} deleted`, moved_chats: chats.length, chats };
      });
      for (const chat of result.chats) publishChatChange(ctx, folder.user_id, chat.chat_id, 'MOVED');
      return { message: result.message, moved_chats: result.moved_chats };
    },
  }),
}));
