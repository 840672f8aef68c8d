// The imports domain: chat history brought in from ChatGPT's export or this service's own.
import { builder } from '../../graphql/builder';
import { badInput } from '../../graphql/errors';
import { type ImportResult, importChats, importOwner } from './service';

const ImportSkip = builder.objectRef<ImportResult['skipped'][number]>('ImportSkip').implement({
  description: 'A conversation that was not imported, and why.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Its position in the input (0 for a single chat).' }),
    reason: t.exposeString('reason', { description: 'Why it was skipped, e.g. "no importable messages".' }),
  }),
});

// The lists are of values already computed (no resolver runs per item): each is counted once.
const ONCE = { field: 1, multiplier: 1 };

export const ImportResultType = builder.objectRef<ImportResult>('ImportResult').implement({
  description: 'What an import did.',
  fields: (t) => ({
    imported: t.exposeInt('imported', { description: 'How many chats were created.' }),
    chat_ids: t.exposeIntList('chat_ids', {
      description: 'The new chats’ IDs, in the order of the input.',
      complexity: ONCE,
    }),
    skipped: t.field({
      type: [ImportSkip],
      description: 'Conversations not imported (none of their messages could be), by position in the input.',
      complexity: ONCE,
      resolve: (result) => result.skipped,
    }),
    skipped_messages: t.exposeInt('skipped_messages', {
      description: 'Messages left out: system and tool messages, hidden, empty or non-text ones.',
    }),
  }),
});

builder.mutationField('import_chats', (t) =>
  t.field({
    type: ImportResultType,
    description:
      'Imports chats: ChatGPT’s `conversations.json` (an array of conversations) or a chat exported by this service (`export_chat` as JSON, or an array of them), with titles, branches and original times. Checked whole first: malformed input is refused (BAD_USER_INPUT, naming where) and nothing is imported. Each conversation is then written in its own transaction: should the database fail part-way, those before it stay imported. `POST /chats/import` takes the file itself, up to IMPORT_MAX_BYTES.',
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({
        description: 'Whose chats they become; must exist. With authentication on, yourself (an admin: anyone).',
      }),
      data: t.arg.string({
        required: true,
        description: 'The file’s JSON text (at most MAX_BODY_BYTES with the rest of the request).',
      }),
    },
    resolve: async (_root, { user_id, data }, ctx) => {
      const owner = await importOwner(ctx, user_id);
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        throw badInput('data: is not valid JSON');
      }
      return importChats(ctx, owner, value);
    },
  }),
);
