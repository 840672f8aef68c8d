import { GraphQLInt, GraphQLList, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { loadConfig } from '../../src/config';
import { assertListsBounded } from '../../src/graphql/complexity';
import { schema } from '../../src/graphql/schema';
import { compileRoutes, routeComplexity } from '../../src/rest/compile';
import { db } from '../support/gateway';
import { startGateway } from '../support/gateway-process';
import { addMessage, call, gql, newChat, newUser } from '../support/http';

// Every SQL statement Prisma sends while `request` runs (as in test/app/query-count.test.ts).
let recording: string[] | null = null;
beforeAll(() => db().$on('query', (event) => recording?.push(event.query)));
async function statementsOf<T>(request: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  recording = [];
  try {
    const result = await request();
    return { result, statements: recording };
  } finally {
    recording = null;
  }
}

async function chatWith(messages: number) {
  const u = await newUser();
  const c = await newChat(u.user_id);
  for (let i = 0; i < messages; i++) await addMessage(c.chat_id, `m${i}`);
  return { user: u, chat: c };
}

describe('nested relation lists', () => {
  it('messages { chat { messages } } is refused as too complex before any SQL runs', async () => {
    const { chat } = await chatWith(3);
    const nested = `{ chat(chat_id: ${chat.chat_id}) { messages { chat { messages { message_id } } } } }`;
    const { result, statements } = await statementsOf(() => gql(nested));
    expect(result.json.data).toBeNull();
    expect(result.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(result.json.errors[0].message).toMatch(/too complex: complexity \d+ exceeds \d+/);
    expect(statements).toEqual([]);
  });

  it('counts a list by its limit: the same query with small limits runs', async () => {
    const { chat } = await chatWith(3);
    const small = `{ chat(chat_id: ${chat.chat_id}) { messages(limit: 2) { chat { messages(limit: 2) { message_id } } } } }`;
    const r = await gql(small);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.chat.messages).toHaveLength(2);
  });

  it('Chat.messages gives the newest `limit` messages, oldest first, and refuses a limit over the maximum', async () => {
    const { chat } = await chatWith(4);
    const r = await gql(`{ chat(chat_id: ${chat.chat_id}) { messages(limit: 2) { content } } }`);
    expect(r.json.data.chat.messages.map((m: { content: string }) => m.content)).toEqual(['m2', 'm3']);
    const max = loadConfig({}).maxMessagesPerRead;
    const over = await gql(`{ chat(chat_id: ${chat.chat_id}) { messages(limit: ${max + 1}) { content } } }`);
    expect(over.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(over.json.errors[0].message).toMatch(new RegExp(`limit: must be at most ${max}`));
  });

  it('a huge limit is refused for what it is, not as a complex query', async () => {
    const r = await gql('{ chats(limit: 2000000000) { chat_id } }');
    expect(r.json.errors[0].message).toMatch(/limit: must be at most 100/);
  });
});

describe('complexity of the REST routes', () => {
  it('every route, with its largest arguments, fits the default GRAPHQL_MAX_COMPLEXITY', () => {
    const config = loadConfig({});
    const budget = config.graphqlMaxComplexity;
    const costs = Object.fromEntries(
      compileRoutes(schema, config).map((route) => [
        `${route.method} ${route.path}`,
        routeComplexity(schema, route, config),
      ]),
    );
    for (const cost of Object.values(costs)) expect(cost).toBeLessThanOrEqual(budget);
    // Counted with their largest pages, not with the defaults: a chat read is a full read of messages.
    expect(costs['GET /chats/:chat_id']).toBeGreaterThan(5 * config.maxMessagesPerRead);
    expect(costs['GET /chats/']).toBeGreaterThan(4 * 100);
    expect(costs['GET /chats/search/']).toBeGreaterThan(4 * 100);
    expect(costs['GET /chats/:chat_id/messages']).toBeGreaterThan(5 * 200);
  });

  it('is checked at start-up: a GRAPHQL_MAX_COMPLEXITY too low for a route stops the server', async () => {
    await expect(startGateway({ GRAPHQL_MAX_COMPLEXITY: '1000' })).rejects.toThrow(
      /REST route GET \/chats\/:chat_id needs a GraphQL complexity of \d+ .* over GRAPHQL_MAX_COMPLEXITY=1000/,
    );
  });

  it('GET /chats/{chat_id} still answers a chat with its messages', async () => {
    const { user, chat } = await chatWith(3);
    const r = await call('GET', `/chats/${chat.chat_id}?user_id=${user.user_id}`);
    expect(r.status).toBe(200);
    expect(r.json.messages).toHaveLength(3);
  });
});

describe('list fields', () => {
  it('every list field of the schema declares how many items it can return, for the complexity count', () => {
    expect(() => assertListsBounded(schema)).not.toThrow();
  });

  it('a list field without a bound stops the schema from building', () => {
    const unbounded = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { items: { type: new GraphQLList(GraphQLInt) } } }),
    });
    expect(() => assertListsBounded(unbounded)).toThrow(/Query\.items/);
  });
});

describe('usage summary rows', () => {
  it('are at most 1000 groups; more is refused with 422 rather than answered without bound', async () => {
    const model = (i: number) => ({
      model_name: `groups-${i}`,
      provider: 'test',
      prompt_tokens: 1,
      completion_tokens: 1,
    });
    const row = (i: number) => ({ ...model(i), total_tokens: 2, cost: 0, price_known: false });
    await db().modelUsage.createMany({ data: Array.from({ length: 1000 }, (_, i) => row(i)) });
    const fits = await call('GET', '/usage/summary?group_by=MODEL');
    expect(fits.status).toBe(200);
    expect(fits.json.rows).toHaveLength(1000);
    await db().modelUsage.create({ data: row(1000) });
    const over = await call('GET', '/usage/summary?group_by=MODEL');
    expect(over.status).toBe(422);
    expect(over.json.detail).toMatch(/more than 1000 groups/);
  });
});
