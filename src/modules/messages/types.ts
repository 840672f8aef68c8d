import { limitUpTo } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { countedByParent, listOf } from '../../graphql/complexity';
import { familyOf } from './branches';
import { encodeCursor } from './paging';
import type { StoredMessage } from './store';

export const Sender = builder.enumType('Sender', {
  description: 'Who wrote a message.',
  values: {
    user: { description: 'The person using the app.' },
    ai: { description: 'The AI assistant.' },
  } as const,
});

const MAX_CHILDREN = 200;
const children = limitUpTo(MAX_CHILDREN).nullish();

const MessageSiblings = builder
  .objectRef<{
    position: number;
    count: number;
    message_ids: number[];
    previous_id: number | null;
    next_id: number | null;
  }>('MessageSiblings')
  .implement({
    description:
      'A message among the versions of it (the messages with the same parent), in the order they were added. Switch to another with `set_active_branch` (`PUT /chats/{chat_id}/active-branch`).',
    fields: (t) => ({
      position: t.exposeInt('position', { description: 'Its place among them, from 1.' }),
      count: t.exposeInt('count', { description: 'How many there are (1: it has no alternatives).' }),
      message_ids: t.exposeIntList('message_ids', {
        description: 'Their IDs, oldest first (this message’s included).',
        // A list of numbers, whose items select nothing: it adds no cost per item.
        complexity: countedByParent,
      }),
      previous_id: t.exposeInt('previous_id', { nullable: true, description: 'The version before it; null: none.' }),
      next_id: t.exposeInt('next_id', { nullable: true, description: 'The version after it; null: none.' }),
    }),
  });

const MessageRef = builder.prismaObject('Message', {
  description: 'One message of a chat.',
  fields: (t) => ({
    message_id: t.exposeInt('message_id', { description: 'The message’s ID.' }),
    chat_id: t.exposeInt('chat_id', { description: 'The chat it belongs to.' }),
    content: t.exposeString('content', { description: 'The text, exactly as sent.' }),
    sender: t.field({
      type: Sender,
      description: 'Who wrote it: "user" or "ai".',
      select: { sender: true },
      resolve: (message) => message.sender as 'user' | 'ai',
    }),
    timestamp: t.expose('timestamp', { type: 'DateTime', description: 'When the message was added.' }),
    is_complete: t.exposeBoolean('is_complete', {
      description: 'False while an AI answer is still being streamed into it (append_to_message).',
    }),
    chat: t.relation('chat', { description: 'The chat it belongs to.' }),
    parent_id: t.exposeInt('parent_id', {
      nullable: true,
      description: 'The message it answers or follows; null for a first message.',
    }),
    siblings: t.field({
      type: MessageSiblings,
      description:
        'The messages that share its parent (alternative versions of it: edited questions, regenerated answers), for a “2 / 3” control.',
      select: { message_id: true, chat_id: true, parent_id: true },
      resolve: async (m, _args, ctx) => {
        let family = await familyOf(ctx.db, ctx, m.chat_id);
        if (!family.get(m.parent_id)?.includes(m.message_id)) family = await familyOf(ctx.db, ctx, m.chat_id, true);
        const ids = family.get(m.parent_id) ?? [m.message_id];
        const at = ids.indexOf(m.message_id);
        return {
          position: at + 1,
          count: ids.length,
          message_ids: ids,
          previous_id: ids[at - 1] ?? null,
          next_id: ids[at + 1] ?? null,
        };
      },
    }),
    children: t.prismaField({
      type: ['Message'],
      description:
        'The messages that answer or follow it, oldest first: more than one where the conversation branched here.',
      args: {
        limit: t.arg.int({ description: `At most this many, 1 to ${MAX_CHILDREN} (default 20).`, validate: children }),
      },
      complexity: listOf((args) => args.limit, 20, MAX_CHILDREN),
      select: { message_id: true },
      resolve: (query, m, { limit }, ctx) =>
        ctx.db.message.findMany({
          ...query,
          where: { parent_id: m.message_id },
          orderBy: { message_id: 'asc' },
          take: limit ?? 20,
        }),
    }),
  }),
});

export const MessageUpdate = builder
  .objectRef<{ message_id: number; delta: string; complete: boolean }>('MessageUpdate')
  .implement({
    description: 'Text appended to a message being streamed.',
    fields: (t) => ({
      delta: t.exposeString('delta', { description: 'The text just appended.' }),
      complete: t.exposeBoolean('complete', { description: 'True on the last part of the answer.' }),
      message: t.prismaField({
        type: 'Message',
        description: 'The message as it is now.',
        resolve: (query, update, _args, ctx) =>
          ctx.db.message.findUniqueOrThrow({ ...query, where: { message_id: update.message_id } }),
      }),
    }),
  });

const PageInfo = builder
  .objectRef<{
    has_next_page: boolean;
    has_previous_page: boolean;
    start_cursor: string | null;
    end_cursor: string | null;
  }>('PageInfo')
  .implement({
    description: 'Where a page of a connection sits (Relay’s PageInfo, with this API’s snake_case names).',
    fields: (t) => ({
      has_next_page: t.exposeBoolean('has_next_page', { description: 'Newer messages follow.' }),
      has_previous_page: t.exposeBoolean('has_previous_page', { description: 'Older messages precede.' }),
      start_cursor: t.exposeString('start_cursor', { nullable: true, description: 'Cursor of the first edge.' }),
      end_cursor: t.exposeString('end_cursor', { nullable: true, description: 'Cursor of the last edge.' }),
    }),
  });

/** A message as read for a page: its columns, plus the relations the request's selection asked for. */
export type MessageRow = StoredMessage;

const MessageEdge = builder.objectRef<MessageRow>('MessageEdge').implement({
  description: 'A message and its cursor.',
  fields: (t) => ({
    cursor: t.string({ description: 'Pass as after/before to page from here.', resolve: encodeCursor }),
    node: t.field({ type: MessageRef, description: 'The message.', resolve: (m) => m }),
  }),
});

export const MessageConnection = builder
  .objectRef<{ nodes: MessageRow[]; hasNext: boolean; hasPrevious: boolean }>('MessageConnection')
  .implement({
    description: 'A page of a chat’s messages, oldest first.',
    fields: (t) => ({
      edges: t.field({
        type: [MessageEdge],
        description: 'The messages of the page.',
        complexity: countedByParent,
        resolve: (p) => p.nodes,
      }),
      page_info: t.field({
        type: PageInfo,
        description: 'Cursors and whether more pages exist.',
        resolve: (p) => ({
          has_next_page: p.hasNext,
          has_previous_page: p.hasPrevious,
          start_cursor: p.nodes[0] ? encodeCursor(p.nodes[0]) : null,
          end_cursor: p.nodes.at(-1) ? encodeCursor(p.nodes.at(-1) as MessageRow) : null,
        }),
      }),
    }),
  });

export const MessagePage = builder
  .objectRef<{ nodes: MessageRow[]; hasNext: boolean; hasPrevious: boolean }>('MessagePage')
  .implement({
    description: 'A page of a chat’s messages, oldest first, with cursors to the next and previous pages.',
    fields: (t) => ({
      items: t.field({
        type: [MessageRef],
        description: 'The messages.',
        complexity: countedByParent,
        resolve: (p) => p.nodes,
      }),
      next_cursor: t.string({
        nullable: true,
        description: 'Pass as `after` for the newer messages; null when there are none.',
        resolve: (p) => (p.hasNext && p.nodes.length > 0 ? encodeCursor(p.nodes.at(-1) as MessageRow) : null),
      }),
      prev_cursor: t.string({
        nullable: true,
        description: 'Pass as `before` for the older messages; null when there are none.',
        resolve: (p) => (p.hasPrevious && p.nodes[0] ? encodeCursor(p.nodes[0]) : null),
      }),
    }),
  });
