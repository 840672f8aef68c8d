import { usePostgres } from '../support/databases';
import { db, gateway } from '../support/gateway';
import { addMessage, call, gql, newChat, newUser } from '../support/http';

// Every SQL statement Prisma sends, every one a direct read sends (src/rest/direct.ts) and every one
// sent straight to Prisma's adapter (src/db/adapter-sql.ts), so a test can assert how many a
// request runs (as Pothos' plugin-prisma tests do): an N+1 regression shows up as a count that
// grows with the data.
let recording: string[] | null = null;
beforeAll(() => {
  db().$on('query', (event) => recording?.push(event.query));
  const { adapterSql } = gateway().services;
  const adapterRows = adapterSql.rows.bind(adapterSql);
  jest.spyOn(adapterSql, 'rows').mockImplementation((statement) => {
    recording?.push(statement.sql);
    return adapterRows(statement);
  });
  const direct = gateway().services.sql;
  if (!direct) return;
  const rows = direct.rows.bind(direct);
  jest.spyOn(direct, 'rows').mockImplementation((sql, params) => {
    recording?.push(sql);
    return rows(sql, params);
  });
});

async function statementsOf(request: () => Promise<unknown>) {
  recording = [];
  try {
    await request();
    return recording;
  } finally {
    recording = null;
  }
}

async function seed(chats: number, messagesPerChat: number) {
  const u = await newUser();
  for (let i = 0; i < chats; i++) {
    const c = await newChat(u.user_id);
    for (let j = 0; j < messagesPerChat; j++) await addMessage(c.chat_id, `m${j}`);
  }
  return u;
}

const LIST = /* GraphQL */ `
  query ($u: Int) {
    chats(user_id: $u, limit: 100) {
      chat_id
      title
      message_count
      last_message_at
      messages(limit: 5) { message_id content sender chat { chat_id } }
      user { user_id email chats(limit: 3) { chat_id } }
    }
  }
`;

describe('SQL statements per request', () => {
  it('chats(limit: 100) { messages user { chats } } runs the same few statements for 2 chats or 40', async () => {
    const small = await seed(2, 2);
    const large = await seed(40, 3);
    const few = await statementsOf(() => gql(LIST, { u: small.user_id }));
    const many = await statementsOf(() => gql(LIST, { u: large.user_id }));
    const result = await gql(LIST, { u: large.user_id });
    expect(result.json.data.chats).toHaveLength(40);
    expect(result.json.data.chats[0].messages).toHaveLength(3);
    expect(few.length).toBeGreaterThan(0);
    expect(many.length).toBe(few.length);
    // chats, their messages (the pages' ids, then the rows), the messages' chat, users, their chats;
    // on PostgreSQL the messages are joined into the chats' statement.
    expect(many.length).toBeLessThanOrEqual(usePostgres ? 4 : 6);
  });

  it('reads only each chat’s page of messages, cut by the database, however long the chats are', async () => {
    const u = await newUser();
    for (let i = 0; i < 3; i++) {
      const c = await newChat(u.user_id);
      await db().message.createMany({
        data: Array.from({ length: 30 }, (_, j) => ({ chat_id: c.chat_id, content: `m${j}`, sender: 'user' })),
      });
    }
    const page = /* GraphQL */ `query ($u: Int) { chats(user_id: $u) { messages(limit: 2) { content } } }`;
    const statements = await statementsOf(() => gql(page, { u: u.user_id }));
    const result = await gql(page, { u: u.user_id });
    expect(result.json.data.chats.map((c: { messages: { content: string }[] }) => c.messages)).toEqual(
      Array(3).fill([{ content: 'm28' }, { content: 'm29' }]),
    );
    // Never a read of whole chats (Prisma's in-memory nested take, after reading every message of
    // every chat) and never an IN list of chats.
    expect(statements.filter((s) => /Message/.test(s) && /chat_id\W* IN/.test(s))).toEqual([]);
    if (usePostgres) {
      // One statement: the chats, each with a lateral join that cuts its page.
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/JOIN LATERAL[\s\S]*LIMIT/);
    } else {
      // One LIMIT per chat in the statement that picks the pages, then the rows.
      const picks = statements.filter((s) => s.includes('UNION ALL'));
      expect(picks).toHaveLength(1);
      expect(picks[0]?.match(/LIMIT/g)).toHaveLength(3);
    }
  });

  it('GET /chats/{chat_id} runs one statement on PostgreSQL, two on SQLite, however long the chat', async () => {
    const u = await seed(1, 25);
    const [chat] = (await call('GET', `/chats/?user_id=${u.user_id}`)).json;
    const statements = await statementsOf(() => call('GET', `/chats/${chat.chat_id}?user_id=${u.user_id}`));
    // PostgreSQL: the chat and its newest messages in one statement (a lateral join); SQLite: the
    // chat, then its messages. So for the route's read straight from SQL, and for its operation.
    expect(statements).toHaveLength(usePostgres ? 1 : 2);
    const operation = /* GraphQL */ `query ($c: Int!, $u: Int) { chat(chat_id: $c, user_id: $u) {
      chat_id title created_at user_id messages(limit: 1000) { message_id chat_id content sender timestamp } } }`;
    const operationStatements = await statementsOf(() => gql(operation, { c: chat.chat_id, u: u.user_id }));
    expect(operationStatements).toHaveLength(usePostgres ? 1 : 2);
    const read = await call('GET', `/chats/${chat.chat_id}?user_id=${u.user_id}`);
    expect(read.json.messages.map((m: { content: string }) => m.content)).toEqual(
      Array.from({ length: 25 }, (_, j) => `m${j}`),
    );
  });

  it('a page of messages reads its rows once, with the relations its selection asks for', async () => {
    const u = await seed(1, 12);
    const [chat] = (await call('GET', `/chats/?user_id=${u.user_id}`)).json;
    const pages = [
      /* GraphQL */ `query ($c: Int!) { chat_messages(chat_id: $c) { items { content chat { title } } } }`,
      /* GraphQL */ `query ($c: Int!) { chat(chat_id: $c) { messages_page(last: 12) { edges { node { content chat { title } } } } } }`,
    ];
    for (const page of pages) {
      const statements = await statementsOf(() => gql(page, { c: chat.chat_id }));
      const result = await gql(page, { c: chat.chat_id });
      expect(JSON.stringify(result.json)).toContain('"chat":{"title":"New Chat"}');
      expect(result.json.errors).toBeUndefined();
      // The access check (or the chat), the page of messages, and the page's chat: no second
      // read of the same messages, and a count that does not grow with the page.
      expect(statements.filter((sql) => /FROM \S*Message\W/.test(sql))).toHaveLength(1);
      expect(statements.length).toBeLessThanOrEqual(3);
    }
  });

  it('GET /chats/ runs one statement and selects no relation', async () => {
    const u = await seed(12, 1);
    const statements = await statementsOf(() => call('GET', `/chats/?user_id=${u.user_id}&limit=100`));
    expect(statements).toHaveLength(1);
    expect(statements[0]).not.toMatch(/Message|User/);
  });
});

describe('SQL statements per write', () => {
  it('POST /chats/{chat_id}/messages is one statement that also moves the chat’s last message time and active leaf', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    const first = await addMessage(chat.chat_id, 'first');
    const statements = await statementsOf(() =>
      call('POST', `/chats/${chat.chat_id}/messages?user_id=${u.user_id}`, { content: 'second', sender: 'ai' }),
    );
    // One INSERT: access check, parent and ID in it; the chat row moved in the same statement (a
    // trigger on SQLite, a data-modifying WITH on PostgreSQL), with the search index.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/INSERT INTO "Message"/);
    const chats = await gql(
      `query ($c: Int!) { chat(chat_id: $c) { last_message_at active_leaf_id messages { message_id parent_id timestamp } } }`,
      { c: chat.chat_id },
    );
    const read = chats.json.data.chat;
    const [, second] = read.messages;
    expect(read.messages).toHaveLength(2);
    expect(second.parent_id).toBe(first.message_id);
    expect(read.active_leaf_id).toBe(second.message_id);
    expect(read.last_message_at).toBe(second.timestamp);
  });

  it('another user’s chat, or one that does not exist, is a 404 that writes nothing', async () => {
    const [owner, other] = [await newUser(), await newUser()];
    const chat = await newChat(owner.user_id);
    const refused = await call('POST', `/chats/${chat.chat_id}/messages?user_id=${other.user_id}`, {
      content: 'not mine',
      sender: 'user',
    });
    expect(refused.status).toBe(404);
    const missing = await call('POST', `/chats/${chat.chat_id + 10_000}/messages`, { content: 'x', sender: 'user' });
    expect(missing.status).toBe(404);
    const after = await call('GET', `/chats/${chat.chat_id}?user_id=${owner.user_id}`);
    expect(after.json.messages).toEqual([]);
    const row = await db().chat.findUniqueOrThrow({ where: { chat_id: chat.chat_id } });
    expect(row.last_message_at).toBeNull();
    expect(row.active_leaf_id).toBeNull();
  });
});
