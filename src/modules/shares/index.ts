// The sharing domain: read-only links to a snapshot of a chat (issue: share links).
import { z } from 'zod';
import { chatFor } from '../../auth/access';
import { isPrismaError } from '../../db/errors';
import { builder } from '../../graphql/builder';
import { fixedList } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { badInput, chatNotFound, notFound } from '../../graphql/errors';
import { publishChatChange } from '../chats/events';
import { activeBranchMessages, branchSelect } from '../messages/branches';
import { Sender } from '../messages/types';
import { newToken, readSnapshot, type SnapshotMessage, shareUrl, TOKEN_PATTERN } from './links';

/** The most links one chat may have at once: a list its owner reads whole. */
export const MAX_SHARES_PER_CHAT = 100;
const MAX_EXPIRY_DAYS = 365;
const DAY_MS = 86_400_000;

const expirySchema = z
  .number()
  .int()
  .min(1, 'must be at least 1')
  .max(MAX_EXPIRY_DAYS, `must be at most ${MAX_EXPIRY_DAYS}`);
const tokenSchema = z.string().regex(TOKEN_PATTERN, 'must be a share link’s token (43 characters: A-Z a-z 0-9 - _)');

/** What a snapshot reads of each message of the active branch. */
type SnapshotRow = { sender: string; content: string; timestamp: Date; is_complete: boolean };

/** One answer for a link that never existed, was revoked, expired, or lost its chat: no oracle. */
const linkNotFound = () => notFound('Share link not found');

builder.prismaObject('ChatShare', {
  description:
    'A share link to a chat: anyone with its URL reads the snapshot taken when it was made (`GET /shared/{token}`), until it is revoked or expires. Made, listed and revoked under the chat’s access rule (its owner; an anonymous chat’s by anyone).',
  fields: (t) => ({
    share_id: t.exposeInt('share_id', { description: 'The link’s ID.' }),
    chat_id: t.exposeInt('chat_id', { description: 'The chat it shares.' }),
    token: t.exposeString('token', {
      description: 'The secret part of the link: 43 base64url characters (32 random bytes).',
    }),
    url: t.string({
      description:
        'The link’s public address, `<PUBLIC_URL>/shared/{token}` (without PUBLIC_URL: this request’s origin).',
      select: { token: true },
      resolve: (share, _args, ctx) => shareUrl(ctx, share.token),
    }),
    created_at: t.expose('created_at', {
      type: 'DateTime',
      description: 'When the link was made (the snapshot’s time).',
    }),
    expires_at: t.expose('expires_at', {
      type: 'DateTime',
      nullable: true,
      description: 'When the link stops working; null: never.',
    }),
  }),
});

const SharedMessage = builder.objectRef<SnapshotMessage>('SharedMessage').implement({
  description: 'A message of a shared chat, as it was when the link was made.',
  fields: (t) => ({
    sender: t.field({ type: Sender, description: 'Who wrote it: "user" or "ai".', resolve: (m) => m.sender as 'user' }),
    content: t.exposeString('content', { description: 'The text.' }),
    timestamp: t.field({
      type: 'DateTime',
      description: 'When the message was added.',
      resolve: (m) => new Date(m.timestamp),
    }),
  }),
});

type SharedChatShape = { title: string; shared_at: Date; messages: SnapshotMessage[] };

const SharedChat = builder.objectRef<SharedChatShape>('SharedChat').implement({
  description:
    'What a share link shows: the chat’s title and active branch when the link was made. Nothing of its owner.',
  fields: (t) => ({
    title: t.exposeString('title', { description: 'The chat’s title then.' }),
    shared_at: t.expose('shared_at', { type: 'DateTime', description: 'When the link was made.' }),
    messages: t.field({
      type: [SharedMessage],
      description: 'The messages of its active branch then, oldest first (the newest MAX_MESSAGES_PER_READ at most).',
      complexity: (_args, ctx) => ({ field: 1, multiplier: ctx.config.maxMessagesPerRead }),
      resolve: (chat) => chat.messages,
    }),
  }),
});

const RevokeShareResult = builder.objectRef<{ message: string }>('RevokeShareResult').implement({
  description: 'What `revoke_share` did.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'E.g. "Share link 5 revoked".' }) }),
});

/** The chat, if the caller may manage its links: the access rule of `GET /chats/{chat_id}`. */
async function ownChat(ctx: Context, chatId: number, givenUserId: number | null | undefined) {
  const where = chatFor(ctx, chatId, givenUserId);
  const chat =
    where && (await ctx.db.chat.findFirst({ where, select: { ...branchSelect, user_id: true, title: true } }));
  if (!chat) throw chatNotFound(chatId);
  return chat;
}

builder.queryFields((t) => ({
  chat_shares: t.prismaField({
    type: ['ChatShare'],
    description: `A chat’s share links, newest first, expired ones included (at most ${MAX_SHARES_PER_CHAT}). Only for whoever may read the chat.`,
    authScopes: { member: true },
    complexity: fixedList(MAX_SHARES_PER_CHAT),
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (query, _root, { chat_id, user_id }, ctx) => {
      await ownChat(ctx, chat_id, user_id);
      return ctx.db.chatShare.findMany({
        ...query,
        where: { chat_id },
        orderBy: { share_id: 'desc' },
        take: MAX_SHARES_PER_CHAT,
      });
    },
  }),
  shared_chat: t.field({
    type: SharedChat,
    description:
      'What a share link shows, to anyone with its token: no authentication, in every AUTH_MODE. A revoked or expired link, and one whose chat was deleted, is not found.',
    args: {
      token: t.arg.string({ required: true, description: 'The link’s token.', validate: tokenSchema }),
    },
    resolve: async (_root, { token }, ctx) => {
      const share = await ctx.db.chatShare.findUnique({
        where: { token },
        select: { title: true, snapshot: true, created_at: true, expires_at: true },
      });
      if (!share || (share.expires_at !== null && share.expires_at.getTime() <= Date.now())) throw linkNotFound();
      return { title: share.title, shared_at: share.created_at, messages: readSnapshot(share.snapshot) };
    },
  }),
}));

builder.mutationFields((t) => ({
  create_share: t.prismaField({
    type: 'ChatShare',
    description: `Makes a share link to a chat: a snapshot of its title and active branch now (AI answers still streaming left out), which later changes to the chat do not touch. Only for whoever may read the chat; at most ${MAX_SHARES_PER_CHAT} links per chat.`,
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      expires_in_days: t.arg.int({
        description: `Days until the link stops working, 1 to ${MAX_EXPIRY_DAYS}; absent: it never expires.`,
        validate: expirySchema.nullish(),
      }),
    },
    resolve: async (query, _root, { chat_id, user_id, expires_in_days }, ctx) => {
      const chat = await ownChat(ctx, chat_id, user_id);
      const links = await ctx.db.chatShare.count({ where: { chat_id } });
      if (links >= MAX_SHARES_PER_CHAT) {
        throw badInput(`A chat has at most ${MAX_SHARES_PER_CHAT} share links: revoke one first`);
      }
      const messages = await activeBranchMessages(
        ctx.db,
        chat,
        { select: { sender: true, content: true, timestamp: true, is_complete: true } },
        ctx.config.maxMessagesPerRead,
      );
      const snapshot = (messages as unknown as SnapshotRow[])
        .filter((m) => m.is_complete)
        .map((m) => ({ sender: m.sender, content: m.content, timestamp: m.timestamp.toISOString() }));
      const now = new Date();
      let share: Awaited<ReturnType<typeof ctx.db.chatShare.create>>;
      try {
        share = await ctx.db.chatShare.create({
          ...query,
          data: {
            chat_id,
            token: newToken(),
            title: chat.title,
            snapshot: JSON.stringify(snapshot),
            created_at: now,
            expires_at: expires_in_days == null ? null : new Date(now.getTime() + expires_in_days * DAY_MS),
          },
        });
      } catch (error) {
        // The chat was deleted while its snapshot was taken.
        if (isPrismaError(error, 'P2003')) throw chatNotFound(chat_id);
        throw error;
      }
      publishChatChange(ctx, chat.user_id, chat_id, 'SHARED');
      return share;
    },
  }),
  revoke_share: t.field({
    type: RevokeShareResult,
    description:
      'Revokes a share link: it is deleted, and its URL is not found from now on. Only for whoever may read the chat.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      share_id: t.arg.int({ required: true, description: 'The link’s ID; one of this chat’s.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (_root, { chat_id, share_id, user_id }, ctx) => {
      const chat = await ownChat(ctx, chat_id, user_id);
      const { count } = await ctx.db.chatShare.deleteMany({ where: { share_id, chat_id } });
      if (count === 0) throw notFound(`Share link with ID ${share_id} not found`);
      publishChatChange(ctx, chat.user_id, chat_id, 'UNSHARED');
      return { message: `Share link ${share_id} revoked` };
    },
  }),
}));
