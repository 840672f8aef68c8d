import { chatFor } from '../../auth/access';
import { builder } from '../../graphql/builder';
import { chatNotFound } from '../../graphql/errors';

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
  messages: { message_id: number; content: string; sender: string; timestamp: Date }[];
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
    description: 'A chat and all its messages as a JSON or Markdown file. The chat’s access rule applies.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      format: t.arg({ type: ExportFormat, defaultValue: 'json', description: 'json (default) or markdown.' }),
    },
    resolve: async (_root, { chat_id, user_id, format }, ctx) => {
      const where = chatFor(ctx, chat_id, user_id);
      const chat =
        where &&
        (await ctx.db.chat.findFirst({
          where,
          select: {
            chat_id: true,
            title: true,
            created_at: true,
            user_id: true,
            messages: {
              select: { message_id: true, content: true, sender: true, timestamp: true },
              orderBy: { message_id: 'asc' },
            },
          },
        }));
      if (!chat) throw chatNotFound(chat_id);
      if (format === 'markdown') {
        return {
          filename: `chat-${chat_id}.md`,
          content_type: 'text/markdown; charset=utf-8',
          content: toMarkdown(chat),
        };
      }
      const messages = chat.messages.map(({ message_id, content, sender, timestamp }) => ({
        message_id,
        chat_id,
        content,
        sender,
        timestamp,
      }));
      const json = { chat_id, title: chat.title, created_at: chat.created_at, user_id: chat.user_id, messages };
      return {
        filename: `chat-${chat_id}.json`,
        content_type: 'application/json; charset=utf-8',
        content: `${JSON.stringify(json, null, 2)}\n`,
      };
    },
  }),
);
