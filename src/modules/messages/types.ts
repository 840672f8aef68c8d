import { builder } from '../../graphql/builder';
import { countedByParent } from '../../graphql/complexity';
import { encodeCursor } from './paging';
import type { StoredMessage } from './store';

export const Sender = builder.enumType('Sender', {
  description: 'Who wrote a message.',
  values: {
    user: { description: 'The person using the app.' },
    ai: { description: 'The AI assistant.' },
  } as const,
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
