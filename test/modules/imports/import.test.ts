import { pathTo } from '../../../src/modules/messages/branches';
import { configureGateway, db, gateway } from '../../support/gateway';
import { addMessage, call, gql, newChat, newUser, readReply, unique } from '../../support/http';
import { conversationsJson, T0, T1 } from './chatgpt-fixture';

// A small MAX_BODY_BYTES shows that import has its own limit, above it.
configureGateway({ MAX_BODY_BYTES: '4096', IMPORT_MAX_BYTES: '65536' });

const at = (seconds: number) => new Date(Math.round(seconds * 1000));
const word = () => unique('zephyrine').replace(/\W/g, '');

async function importAs(userId: number, body: unknown) {
  return call('POST', `/chats/import?user_id=${userId}`, body);
}

/** Every message of a chat, in ID order, with its parent's content instead of its parent's ID. */
async function tree(chatId: number) {
  const rows = await db().message.findMany({ where: { chat_id: chatId }, orderBy: { message_id: 'asc' } });
  const byId = new Map(rows.map((r) => [r.message_id, r]));
  return rows.map((r) => ({
    content: r.content,
    sender: r.sender,
    timestamp: r.timestamp.toISOString(),
    parent: r.parent_id === null ? null : (byId.get(r.parent_id)?.content ?? 'missing'),
    parentIsSmaller: r.parent_id === null || r.parent_id < r.message_id,
  }));
}

const counts = async () => ({ chats: await db().chat.count(), messages: await db().message.count() });

describe('POST /chats/import: ChatGPT’s conversations.json', () => {
  it('keeps titles, branches, order and times, skips what is not a chat message, and counts it', async () => {
    const u = await newUser();
    const w = word();
    const r = await importAs(u.user_id, conversationsJson(w));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      imported: 2,
      chat_ids: [expect.any(Number), expect.any(Number)],
      skipped: [],
      skipped_messages: 5,
    });
    const [a, b] = r.json.chat_ids as [number, number];
    expect(b).toBeGreaterThan(a);

    const list = await call('GET', `/chats/?user_id=${u.user_id}`);
    expect(list.json.map((c: { title: string }) => c.title).sort()).toEqual([
      'Hello there',
      'Quarterly revenue analysis',
    ]);

    const chatA = await db().chat.findUniqueOrThrow({ where: { chat_id: a } });
    expect(chatA).toMatchObject({ user_id: u.user_id, title: 'Quarterly revenue analysis', branched: true });
    expect(chatA.created_at.toISOString()).toBe(at(T0).toISOString());
    expect(chatA.last_message_at?.toISOString()).toBe(at(T0 + 90).toISOString());
    // Imported now: retention counts its inactivity from the import, not from its old messages.
    expect(Date.now() - (chatA.updated_at?.getTime() ?? 0)).toBeLessThan(60_000);
    // In time order, each message after the one it answers: the system message and the tool call
    // and its output are gone, and the answer after them attaches to the question before them.
    expect(await tree(a)).toEqual(
      [
        [`How did revenue grow in Q3? ${w}`, 'user', T0 + 10, null],
        ['Revenue grew 12%.', 'ai', T0 + 20, `How did revenue grow in Q3? ${w}`],
        ['Plot it by region', 'user', T0 + 30, 'Revenue grew 12%.'],
        ['Here is the plot by region.', 'ai', T0 + 40, 'Plot it by region'],
        ['Revenue grew twelve percent in Q3.', 'ai', T0 + 50, `How did revenue grow in Q3? ${w}`],
        ['What about Q4?', 'user', T0 + 60, 'Revenue grew twelve percent in Q3.'],
        ['Q4 grew 8%.', 'ai', T0 + 70, 'What about Q4?'],
        ['What about Q4 in Europe?', 'user', T0 + 80, 'Revenue grew twelve percent in Q3.'],
        ['Europe grew 5% in Q4.', 'ai', T0 + 90, 'What about Q4 in Europe?'],
      ].map(([content, sender, time, parent]) => ({
        content,
        sender,
        timestamp: at(time as number).toISOString(),
        parent,
        parentIsSmaller: true,
      })),
    );
    // The active branch is ChatGPT's current node (not the latest branch): root to "Q4 grew 8%.".
    // (GET /chats/{id} answering only the active branch is being built separately: read from the database.)
    const activeLeaf = chatA.active_leaf_id as number;
    const path = await pathTo(db(), a, activeLeaf);
    const contents = await db().message.findMany({
      where: { message_id: { in: path } },
      orderBy: { message_id: 'asc' },
    });
    expect(contents.map((m) => m.content)).toEqual([
      `How did revenue grow in Q3? ${w}`,
      'Revenue grew twelve percent in Q3.',
      'What about Q4?',
      'Q4 grew 8%.',
    ]);

    const chatB = await db().chat.findUniqueOrThrow({ where: { chat_id: b } });
    expect(chatB).toMatchObject({ title: 'Hello there', branched: false });
    expect(chatB.created_at.toISOString()).toBe(at(T1).toISOString());
    // The answer without a time took its question's; the hidden message and the image are skipped.
    expect(await tree(b)).toEqual([
      {
        content: 'Hello, can you help me with pandas?',
        sender: 'user',
        timestamp: at(T1 + 1).toISOString(),
        parent: null,
        parentIsSmaller: true,
      },
      {
        content: 'Of course! What do you need?',
        sender: 'ai',
        timestamp: at(T1 + 1).toISOString(),
        parent: 'Hello, can you help me with pandas?',
        parentIsSmaller: true,
      },
    ]);
    const lastB = await db().message.findFirstOrThrow({ where: { chat_id: b }, orderBy: { message_id: 'desc' } });
    expect(chatB.active_leaf_id).toBe(lastB.message_id);

    // The REST reads see them, and a new message follows the active leaf.
    const read = await call('GET', `/chats/${b}?user_id=${u.user_id}`);
    expect(read.json.messages.map((m: { content: string }) => m.content)).toEqual([
      'Hello, can you help me with pandas?',
      'Of course! What do you need?',
    ]);
    // Chat A is branched: its reads follow the active branch (current_node's path), not all 9 messages.
    const active = (await call('GET', `/chats/${a}?user_id=${u.user_id}`)).json.messages;
    expect(active.map((m: { content: string }) => m.content)).toEqual(
      (
        await db().message.findMany({
          where: { message_id: { in: await pathTo(db(), a, activeLeaf) } },
          orderBy: { message_id: 'asc' },
        })
      ).map((m) => m.content),
    );
    expect(active.at(-1).message_id).toBe(activeLeaf);
    const page = await call('GET', `/chats/${a}/messages?user_id=${u.user_id}&limit=50`);
    expect(page.json.items).toEqual(active);
    const whole = await gql(`{ chat(chat_id: ${a}, user_id: ${u.user_id}) { message_tree { message_id } } }`);
    expect(whole.json.data.chat.message_tree).toHaveLength(9);
    const added = await call('POST', `/chats/${a}/messages?user_id=${u.user_id}`, {
      content: 'And Q1?',
      sender: 'user',
    });
    expect(added.status).toBe(200);
    const follow = await db().message.findUniqueOrThrow({ where: { message_id: added.json.message_id } });
    expect(follow.parent_id).toBe(activeLeaf);
  });

  it('makes the imported messages searchable', async () => {
    const u = await newUser();
    const w = word();
    const r = await importAs(u.user_id, conversationsJson(w));
    const hits = await call('GET', `/chats/search/?query=${w}&user_id=${u.user_id}`);
    expect(hits.status).toBe(200);
    expect(hits.json.map((h: { chat_id: number }) => h.chat_id)).toEqual([r.json.chat_ids[0]]);
    expect(hits.json[0].matches[0].snippet).toContain(`**${w}**`);
    const byTitle = await call('GET', `/chats/search/?query=pandas&user_id=${u.user_id}`);
    expect(byTitle.json.map((h: { chat_id: number }) => h.chat_id)).toEqual([r.json.chat_ids[1]]);
  });

  it('skips a conversation with nothing to import, and says which and why', async () => {
    const u = await newUser();
    const [good] = conversationsJson(word());
    const onlySystem = {
      title: 'System only',
      create_time: T0,
      mapping: {
        root: { id: 'root', message: null, parent: null, children: ['s'] },
        s: {
          id: 's',
          message: {
            author: { role: 'system' },
            content: { content_type: 'text', parts: ['Be helpful'] },
            create_time: T0,
          },
          parent: 'root',
          children: [],
        },
      },
      current_node: 's',
    };
    const r = await importAs(u.user_id, [onlySystem, good, { title: 'Empty', mapping: {} }]);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      imported: 1,
      skipped: [
        { index: 0, reason: expect.stringMatching(/^no importable messages \(1 skipped/) },
        { index: 2, reason: 'no messages' },
      ],
      skipped_messages: 4,
    });
  });

  it('times a conversation without times from the one before, and accepts unknown fields', async () => {
    const u = await newUser();
    const before = Date.now();
    const r = await importAs(u.user_id, [
      {
        title: null,
        future_field: { nested: [1, 2] },
        mapping: {
          x: {
            message: { author: { role: 'user' }, content: { content_type: 'text', parts: ['a', 'b'] } },
            parent: null,
          },
          y: {
            message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: ['c'] } },
            parent: 'x',
          },
        },
      },
    ]);
    expect(r.status).toBe(200);
    const chat = await db().chat.findUniqueOrThrow({ where: { chat_id: r.json.chat_ids[0] } });
    expect(chat.title).toBe('New Chat');
    expect(chat.created_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await tree(chat.chat_id)).map((m) => [m.content, m.timestamp])).toEqual([
      ['a\nb', chat.created_at.toISOString()],
      ['c', chat.created_at.toISOString()],
    ]);
  });

  it('takes a body larger than MAX_BODY_BYTES (up to IMPORT_MAX_BYTES), and emits CREATED', async () => {
    const u = await newUser();
    const many = conversationsJson(word());
    const body = JSON.stringify([...many, ...many, ...many]);
    expect(Buffer.byteLength(body)).toBeGreaterThan(4096);
    const r = await importAs(u.user_id, body);
    expect(r.status).toBe(200);
    expect(r.json.imported).toBe(6);
  });
});

describe('POST /chats/import: this service’s own export', () => {
  it('round-trips an exported chat: title, messages, senders and times', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    await call('PUT', `/chats/${c.chat_id}`, { title: 'Round trip' });
    for (const [content, sender] of [
      ['first question', 'user'],
      ['first answer', 'ai'],
      ['second question', 'user'],
    ]) {
      await addMessage(c.chat_id, content as string, sender);
    }
    const exported = await call('GET', `/chats/${c.chat_id}/export?user_id=${u.user_id}`);
    expect(exported.status).toBe(200);
    const other = await newUser();
    const r = await importAs(other.user_id, exported.text);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ imported: 1, chat_ids: [expect.any(Number)], skipped: [], skipped_messages: 0 });
    const again = await call('GET', `/chats/${r.json.chat_ids[0]}/export?user_id=${other.user_id}`);
    const original = JSON.parse(exported.text);
    const copy = JSON.parse(again.text);
    expect(copy.user_id).toBe(other.user_id);
    expect([copy.title, copy.created_at]).toEqual([original.title, original.created_at]);
    const strip = (m: { content: string; sender: string; timestamp: string }) => [m.content, m.sender, m.timestamp];
    expect(copy.messages.map(strip)).toEqual(original.messages.map(strip));
    const imported = await db().chat.findUniqueOrThrow({ where: { chat_id: r.json.chat_ids[0] } });
    expect(imported.branched).toBe(false);
    expect((await tree(imported.chat_id)).map((m) => m.parent)).toEqual([null, 'first question', 'first answer']);

    // An array of exports, too; one with parent_ids is a tree.
    const tree2 = {
      title: 'Branched export',
      created_at: '2026-01-01T00:00:00.000Z',
      messages: [
        { message_id: 10, content: 'q', sender: 'user', timestamp: '2026-01-01T00:00:01.000Z', parent_id: null },
        { message_id: 11, content: 'a1', sender: 'ai', timestamp: '2026-01-01T00:00:02.000Z', parent_id: 10 },
        { message_id: 12, content: 'a2', sender: 'ai', timestamp: '2026-01-01T00:00:03.000Z', parent_id: 10 },
      ],
    };
    const both = await importAs(other.user_id, [original, tree2]);
    expect(both.json.imported).toBe(2);
    const branched = await db().chat.findUniqueOrThrow({ where: { chat_id: both.json.chat_ids[1] } });
    expect(branched.branched).toBe(true);
    expect((await tree(branched.chat_id)).map((m) => [m.content, m.parent])).toEqual([
      ['q', null],
      ['a1', 'q'],
      ['a2', 'q'],
    ]);
  });
});

describe('POST /chats/import: refused input changes nothing', () => {
  const userMessage = (text: unknown) => ({
    author: { role: 'user' },
    content: { content_type: 'text', parts: [text] },
  });

  it.each([
    ['not JSON', '{"title": ', 'The request body is not valid JSON'],
    ['neither format', '42', 'The body must be ChatGPT’s conversations.json'],
    ['an unknown element', [{ title: 'x' }], 'conversations[0]: neither a ChatGPT conversation'],
    [
      'a mapping that is no object',
      [{}, { title: 'x', mapping: [] }].slice(1),
      'conversations[0].mapping: must be an object',
    ],
    [
      'a parent that does not exist',
      [{ mapping: { abc: { message: userMessage('hi'), parent: 'nope', children: [] } } }],
      'conversations[0].mapping["abc"].parent: no such node',
    ],
    [
      'a cycle',
      [{ mapping: { a: { message: userMessage('hi'), parent: 'b' }, b: { message: null, parent: 'a' } } }],
      'parent: forms a cycle',
    ],
    [
      'parts that are not strings',
      [{ mapping: { a: { message: userMessage(42), parent: null } } }],
      'conversations[0].mapping["a"].message.content.parts[0]: must be a string',
    ],
    [
      'a child that does not exist',
      [{ mapping: { a: { message: userMessage('hi'), parent: null, children: ['zz'] } } }],
      'conversations[0].mapping["a"].children[0]: no such node',
    ],
    [
      'a bad create_time',
      [{ create_time: 'yesterday', mapping: {} }],
      'conversations[0].create_time: must be a time in Unix seconds',
    ],
    [
      'a NUL character',
      [{ mapping: { a: { message: userMessage('a\u0000b'), parent: null } } }],
      'must not contain the NUL character',
    ],
    [
      'an unknown sender in an export',
      { title: 't', messages: [{ content: 'x', sender: 'robot' }] },
      'conversation.messages[0].sender: must be "user" or "ai"',
    ],
    [
      'a parent_id naming no message of the export',
      { title: 't', messages: [{ message_id: 1, content: 'x', sender: 'user', parent_id: 7 }] },
      'conversation.messages[0].parent_id: no such node',
    ],
  ])('%s: 422 naming where', async (_name, body, detail) => {
    const u = await newUser();
    // A good conversation first: the bad one after it refuses the whole request.
    const good = conversationsJson(word())[1];
    const sent = Array.isArray(body) ? [good, ...body].slice(1) : body;
    const before = await counts();
    const r = await importAs(u.user_id, sent);
    expect(r.status).toBe(422);
    expect(r.json.detail).toContain(detail);
    expect(await counts()).toEqual(before);
  });

  it('refuses the whole request for one malformed conversation after good ones', async () => {
    const u = await newUser();
    const before = await counts();
    const [first, second] = conversationsJson(word());
    const r = await importAs(u.user_id, [first, second, { mapping: 'no' }]);
    expect([r.status, r.json.detail]).toEqual([422, 'conversations[2].mapping: must be an object']);
    expect(await counts()).toEqual(before);
  });

  it('415 for a body that is not JSON, 422 for an unknown user or parameter, other methods as /chats/{chat_id}', async () => {
    const u = await newUser();
    const plain = await call('POST', `/chats/import?user_id=${u.user_id}`, undefined, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    const unknownUser = await call('POST', '/chats/import?user_id=2000000000', []);
    expect([unknownUser.status, unknownUser.json.detail]).toEqual([422, 'User with ID 2000000000 not found']);
    const extra = await call('POST', `/chats/import?user_id=${u.user_id}&format=zip`, []);
    expect([extra.status, extra.json.detail]).toEqual([422, 'format: unknown parameter']);
    // Other methods are those of /chats/{chat_id}, with an ID that is not one.
    const get = await call('GET', '/chats/import');
    expect([get.status, get.json.detail]).toEqual([422, expect.stringContaining('chat_id')]);
  });

  it('413 over IMPORT_MAX_BYTES, declared or streamed, and nothing written', async () => {
    const u = await newUser();
    const before = await counts();
    const big = JSON.stringify([{ title: 'x'.repeat(70_000), mapping: {} }]);
    const declared = await call('POST', `/chats/import?user_id=${u.user_id}`, big);
    expect(declared.status).toBe(413);
    expect(declared.json.detail).toContain('IMPORT_MAX_BYTES');
    // Chunked, with no Content-Length: refused as it passes the limit.
    const chunks = [big.slice(0, 40_000), big.slice(40_000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const streamed = await readReply(
      await gateway().yoga.fetch(`http://localhost/chats/import?user_id=${u.user_id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect([streamed.status, streamed.headers.get('connection')]).toEqual([413, 'close']);
    expect(await counts()).toEqual(before);
  });
});

describe('import_chats (GraphQL)', () => {
  const IMPORT = /* GraphQL */ `
    mutation ($u: Int, $d: String!) {
      import_chats(user_id: $u, data: $d) { imported chat_ids skipped { index reason } skipped_messages }
    }
  `;

  it('imports the same way, and refuses malformed data with BAD_USER_INPUT', async () => {
    const u = await newUser();
    const data = JSON.stringify([conversationsJson(word())[1]]);
    const ok = await gql(IMPORT, { u: u.user_id, d: data });
    expect(ok.json.errors).toBeUndefined();
    expect(ok.json.data.import_chats).toMatchObject({ imported: 1, skipped: [], skipped_messages: 2 });
    const before = await counts();
    const bad = await gql(IMPORT, { u: u.user_id, d: '[{"mapping": {"a": {"parent": "b"}}}]' });
    expect(bad.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(bad.json.errors[0].message).toBe('conversations[0].mapping["a"].parent: no such node');
    const notJson = await gql(IMPORT, { u: u.user_id, d: 'nope' });
    expect(notJson.json.errors[0]).toMatchObject({
      message: 'data: is not valid JSON',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await counts()).toEqual(before);
  });
});
