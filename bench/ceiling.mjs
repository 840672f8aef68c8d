// The framework ceiling: graphql-yoga, as the gateway uses it, serving route 1 (its operation
// parsed once and run through Yoga's execution pipeline, like src/rest/plugin.ts) and the GraphQL
// chat read from data held in memory (loaded once from the benchmark's database). No Pothos,
// Prisma, SQLite, auth or logging: what is left is the cost of the HTTP layer and GraphQL
// execution, which no change inside the gateway can go below. Started by bench/run.mjs.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const requireGw = createRequire(path.join(process.env.GATEWAY_DIR, 'package.json'));
const { createSchema, createYoga } = requireGw('graphql-yoga');
const { parse } = requireGw('graphql');
const Database = requireGw('better-sqlite3');

// Stored timestamps look like 2026-01-01T00:00:00.000+00:00; the API answers them with Z.
const iso = (stored) => new Date(stored).toISOString();
const chats = new Map();
const db = new Database(process.env.CEILING_DB, { readonly: true });
const messagesOf = db.prepare(
  'SELECT message_id, chat_id, content, sender, timestamp FROM "Message" WHERE chat_id = ? ORDER BY timestamp, message_id',
);
for (const c of db.prepare('SELECT chat_id, title, created_at, user_id FROM "Chat"').all()) {
  const messages = messagesOf.all(c.chat_id).map((m) => ({ ...m, timestamp: iso(m.timestamp) }));
  chats.set(c.chat_id, { ...c, created_at: iso(c.created_at), messages });
}
db.close();

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Message { message_id: Int! chat_id: Int! content: String! sender: String! timestamp: String! }
    type Chat { chat_id: Int! title: String! created_at: String! user_id: Int messages: [Message!]! }
    type Query { chat(chat_id: Int!, user_id: Int): Chat }
  `,
  resolvers: {
    Query: {
      chat: (_root, { chat_id, user_id }) => {
        const chat = chats.get(chat_id);
        return chat && (user_id == null || chat.user_id === user_id) ? chat : null;
      },
    },
  },
});

// As in the gateway (src/rest/plugin.ts): match the route, run its pre-parsed operation, answer the field.
const ROUTE = /^\/chats\/(\d+)$/;
const operation = parse(
  'query chat($chat_id: Int!, $user_id: Int) { chat(chat_id: $chat_id, user_id: $user_id) { chat_id title created_at user_id messages { message_id chat_id content sender timestamp } } }',
);
let getEnveloped;
const restRoute = {
  onYogaInit: ({ yoga }) => {
    getEnveloped = yoga.getEnveloped;
  },
  async onRequest({ request, url, serverContext, fetchAPI, endResponse }) {
    const match = url.pathname.match(ROUTE);
    if (!match) return;
    const userId = url.searchParams.get('user_id');
    const initial = Object.assign(serverContext, { request });
    const enveloped = getEnveloped(initial);
    const result = await enveloped.execute({
      schema: enveloped.schema,
      document: operation,
      contextValue: await enveloped.contextFactory(initial),
      variableValues: { chat_id: Number(match[1]), user_id: userId === null ? undefined : Number(userId) },
    });
    endResponse(fetchAPI.Response.json(result.data.chat));
  },
};
const yoga = createYoga({ schema, logging: false, landingPage: false, graphiql: false, plugins: [restRoute] });
createServer(yoga).listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => process.exit(0));
