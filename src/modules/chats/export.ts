import { chatFor } from '../../auth/access';
import { builder } from '../../graphql/builder';
import { badInput, chatNotFound } from '../../graphql/errors';
import { activeBranchMessages, branchSelect } from '../messages/branches';

const ExportFormat = builder.enumType('ExportFormat', {
  description: 'How to export a chat.',
  values: {
    json: { description: 'The chat and its messages as JSON, with the REST API’s keys.' },
    markdown: { description: 'A readable Markdown transcript.' },
  } as const,
});

const ChatExport = builder
  .objectRef<{ filename: string; content_type: string; content: string }>('ChatExport')
  .implement({
    description: 'A chat exported as a file.',
    fields: (t) => ({
      filename: t.exposeString('filename', { description: 'A file name for the download.' }),
      content_type: t.exposeString('content_type', { description: 'Its media type.' }),
      content: t.exposeString('content', { description: 'The file’s text.' }),
    }),
  });

type ExportedChat = {
  chat_id: number;
  title: string;
  created_at: Date;
  user_id: number | null;
  messages: { message_id: number; content: string; sender: string; timestamp: Date; parent_id: number | null }[];
};

function toMarkdown(chat: ExportedChat): string {
  const lines = [`# ${chat.title}`, '', `Chat ${chat.chat_id}, started ${chat.created_at.toISOString()}.`, ''];
  for (const m of chat.messages) {
    lines.push(`## ${m.sender === 'ai' ? 'AI' : 'User'} · ${m.timestamp.toISOString()}`, '', m.content, '');
  }
  return lines.join('\n');
}

builder.queryField('export_chat', (t) =>
  t.field({
    type: ChatExport,
    description:
      'A chat and its messages (the active branch, or with `tree` every branch) as a JSON or Markdown file. The chat’s access rule applies.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      format: t.arg({ type: ExportFormat, defaultValue: 'json', description: 'json (default) or markdown.' }),
      tree: t.arg.boolean({
        description:
          'JSON only: every message on every branch (each with its `parent_id`), instead of the active branch.',
      }),
    },
    resolve: async (_root, { chat_id, user_id, format, tree }, ctx) => {
      if (tree && format === 'markdown') throw badInput('tree: only with format json (a transcript is one branch)');
      const where = chatFor(ctx, chat_id, user_id);
      const found =
        where &&
        (await ctx.db.chat.findFirst({
          where,
          select: { ...branchSelect, title: true, created_at: true, user_id: true },
        }));
      if (!found) throw chatNotFound(chat_id);
      const select = { message_id: true, content: true, sender: true, timestamp: true, parent_id: true };
      const chat = {
        ...found,
        messages: tree
          ? await ctx.db.message.findMany({ where: { chat_id }, select, orderBy: { message_id: 'asc' } })
          : ((await activeBranchMessages(ctx.db, found, { select })) as ExportedChat['messages']),
      };
      if (!chat) throw chatNotFound(chat_id);
      if (format === 'markdown') {
        return {
          filename: `chat-${chat_id}.md`,
          content_type: 'text/markdown; charset=utf-8',
          content: toMarkdown(chat),
        };
      }
      // The keys of GET /chats/{chat_id}; a whole tree also needs each message's parent.
      const messages = chat.messages.map(({ message_id, content, sender, timestamp, parent_id }) => ({
        message_id,
        chat_id,
        content,
        sender,
        timestamp,
        ...(tree && { parent_id }),
      }));
      const json = {
        chat_id,
        title: chat.title,
        created_at: chat.created_at,
        user_id: chat.user_id,
        ...(tree && { active_leaf_id: chat.active_leaf_id }),
        messages,
      };
      return {
        filename: `chat-${chat_id}.json`,
        content_type: 'application/json; charset=utf-8',
        content: `${JSON.stringify(json, null, 2)}\n`,
      };
    },
  }),
);
