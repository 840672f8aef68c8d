import { db } from '../../support/gateway';
import { call, gql, listen, newChat, newUser } from '../../support/http';
import { subscribe } from '../../support/sse';

// Branches: every message has a parent; a chat shows and continues its active branch.

type M = { message_id: number; content: string };
const contents = (messages: M[]) => messages.map((m) => m.content);

async function add(chatId: number, content: string, extra: Record<string, unknown> = {}, sender = 'user') {
  const reply = await call('POST', `/chats/${chatId}/messages`, { content, sender, ...extra });
  expect(reply.status).toBe(200);
  return reply.json as M & { chat_id: number };
}
const read = async (chatId: number, query = '') => (await call('GET', `/chats/${chatId}${query}`)).json;

/** q1 → a1 → q2 → a2, then q2 edited (q2b under a1) and answered (a2b): the active branch is q1 a1 q2b a2b. */
async function editedChat(userId?: number) {
  const chat = await newChat(userId);
  const q1 = await add(chat.chat_id, 'q1');
  const a1 = await add(chat.chat_id, 'a1', {}, 'ai');
  const q2 = await add(chat.chat_id, 'q2');
  const a2 = await add(chat.chat_id, 'a2', {}, 'ai');
  const q2b = await add(chat.chat_id, 'q2b', { parent_id: a1.message_id });
  const a2b = await add(chat.chat_id, 'a2b', {}, 'ai');
  return { chat, q1, a1, q2, a2, q2b, a2b };
}

describe('a chat that never branches', () => {
  it('is exactly today’s linear chat: each message follows the one before, the REST keys unchanged', async () => {
    const chat = await newChat();
    const first = await add(chat.chat_id, 'one');
    const second = await add(chat.chat_id, 'two', {}, 'ai');
    expect(Object.keys(second).sort()).toEqual(['chat_id', 'content', 'message_id', 'sender', 'timestamp']);
    const got = await read(chat.chat_id);
    expect(Object.keys(got.messages[0]).sort()).toEqual(['chat_id', 'content', 'message_id', 'sender', 'timestamp']);
    expect(contents(got.messages)).toEqual(['one', 'two']);
    const rows = await db().message.findMany({ where: { chat_id: chat.chat_id }, orderBy: { message_id: 'asc' } });
    expect(rows.map((r) => r.parent_id)).toEqual([null, first.message_id]);
    const stored = await db().chat.findUniqueOrThrow({ where: { chat_id: chat.chat_id } });
    expect(stored).toMatchObject({ branched: false, active_leaf_id: second.message_id });
  });

  it('stays one line when 40 messages are added at once (no accidental branch under concurrency)', async () => {
    const chat = await newChat((await newUser()).user_id);
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call('POST', `/chats/${chat.chat_id}/messages`, { content: `m${i}`, sender: 'user' }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(40).fill(200));
    const rows = await db().message.findMany({ where: { chat_id: chat.chat_id }, orderBy: { message_id: 'asc' } });
    expect(rows).toHaveLength(40);
    // Each message's parent is the message added just before it.
    expect(rows.map((r) => r.parent_id)).toEqual([null, ...rows.slice(0, -1).map((r) => r.message_id)]);
    const stored = await db().chat.findUniqueOrThrow({ where: { chat_id: chat.chat_id } });
    expect(stored).toMatchObject({ branched: false, active_leaf_id: rows.at(-1)?.message_id });
  });
});

describe('editing a question starts a branch', () => {
  it('GET /chats/{id} keeps its shape and answers the active branch; the old one is kept', async () => {
    const { chat, q2b } = await editedChat();
    expect(q2b.content).toBe('q2b');
    const got = await read(chat.chat_id);
    expect(Object.keys(got).sort()).toEqual(['chat_id', 'created_at', 'messages', 'title', 'user_id']);
    expect(contents(got.messages)).toEqual(['q1', 'a1', 'q2b', 'a2b']);
    const tree = await gql(`{ chat(chat_id: ${chat.chat_id}) { branched message_tree { content parent_id } } }`);
    expect(tree.json.data.chat.branched).toBe(true);
    expect(contents(tree.json.data.chat.message_tree)).toEqual(['q1', 'a1', 'q2', 'a2', 'q2b', 'a2b']);
  });

  it('regenerating an answer is a sibling of the old one; siblings give “2 / 2”', async () => {
    const chat = await newChat();
    const q = await add(chat.chat_id, 'question');
    const a = await add(chat.chat_id, 'answer', {}, 'ai');
    const again = await add(chat.chat_id, 'better answer', { parent_id: q.message_id }, 'ai');
    const got = await gql(
      `{ chat(chat_id: ${chat.chat_id}) { messages { content siblings { position count message_ids previous_id next_id } } } }`,
    );
    const [first, last] = got.json.data.chat.messages;
    expect(first).toEqual({
      content: 'question',
      siblings: { position: 1, count: 1, message_ids: [q.message_id], previous_id: null, next_id: null },
    });
    expect(last).toEqual({
      content: 'better answer',
      siblings: {
        position: 2,
        count: 2,
        message_ids: [a.message_id, again.message_id],
        previous_id: a.message_id,
        next_id: null,
      },
    });
    const children = await gql(`{ chat(chat_id: ${chat.chat_id}) { messages(limit: 1) { parent_id } } }`);
    expect(children.json.data.chat.messages[0].parent_id).toBe(q.message_id);
    const kids = await gql(`{ chat(chat_id: ${chat.chat_id}) { messages { children { content } } } }`);
    expect(kids.json.data.chat.messages[0].children.map((c: M) => c.content)).toEqual(['answer', 'better answer']);
  });

  it('parent_id null starts a new first message (an edited first question)', async () => {
    const chat = await newChat();
    await add(chat.chat_id, 'first');
    await add(chat.chat_id, 'reply', {}, 'ai');
    const root = await add(chat.chat_id, 'first, edited', { parent_id: null });
    expect(contents((await read(chat.chat_id)).messages)).toEqual(['first, edited']);
    const stored = await db().message.findUniqueOrThrow({ where: { message_id: root.message_id } });
    expect(stored.parent_id).toBeNull();
  });
});

describe('choosing the active branch', () => {
  it('PUT /chats/{id}/active-branch with any message on the path shows that branch, and new messages continue it', async () => {
    const { chat, q2, a2 } = await editedChat();
    // q2 is not a leaf: the branch ends at the latest message under it (a2).
    const switched = await call('PUT', `/chats/${chat.chat_id}/active-branch`, { message_id: q2.message_id });
    expect(switched.status).toBe(200);
    expect(Object.keys(switched.json).sort()).toEqual(['chat_id', 'created_at', 'messages', 'title', 'user_id']);
    expect(contents(switched.json.messages)).toEqual(['q1', 'a1', 'q2', 'a2']);
    expect(contents((await read(chat.chat_id)).messages)).toEqual(['q1', 'a1', 'q2', 'a2']);
    const next = await add(chat.chat_id, 'q3');
    expect((await db().message.findUniqueOrThrow({ where: { message_id: next.message_id } })).parent_id).toBe(
      a2.message_id,
    );
    expect(contents((await read(chat.chat_id)).messages)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3']);
  });

  it('paging and export follow the active branch; export with tree=true has every message', async () => {
    const { chat } = await editedChat();
    const page = await call('GET', `/chats/${chat.chat_id}/messages?limit=3`);
    expect(page.status).toBe(200);
    expect(contents(page.json.items)).toEqual(['a1', 'q2b', 'a2b']);
    const older = await call('GET', `/chats/${chat.chat_id}/messages?limit=3&before=${page.json.prev_cursor}`);
    expect(contents(older.json.items)).toEqual(['q1']);
    const exported = await call('GET', `/chats/${chat.chat_id}/export?format=json`);
    expect(contents(JSON.parse(exported.text).messages)).toEqual(['q1', 'a1', 'q2b', 'a2b']);
    const whole = await call('GET', `/chats/${chat.chat_id}/export?format=json&tree=true`);
    const all = JSON.parse(whole.text);
    expect(contents(all.messages)).toEqual(['q1', 'a1', 'q2', 'a2', 'q2b', 'a2b']);
    expect(all.messages[4].parent_id).toBe(all.messages[1].message_id);
    const markdown = await call('GET', `/chats/${chat.chat_id}/export?format=markdown`);
    expect(markdown.text).toContain('q2b');
    expect(markdown.text).not.toContain('\nq2\n');
  });

  it('tells the owner’s chat_changed subscribers BRANCH_SWITCHED', async () => {
    const server = await listen();
    try {
      const owner = await newUser();
      const { chat, q2 } = await editedChat(owner.user_id);
      const sub = await subscribe(
        server.base,
        'subscription($u: Int!) { chat_changed(user_id: $u) { chat_id kind } }',
        {
          u: owner.user_id,
        },
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await call('PUT', `/chats/${chat.chat_id}/active-branch?user_id=${owner.user_id}`, {
          message_id: q2.message_id,
        });
        expect((await sub.next()).data.chat_changed).toEqual({ chat_id: chat.chat_id, kind: 'BRANCH_SWITCHED' });
      } finally {
        sub.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('bad input changes nothing', () => {
  it('a parent from another chat, or a missing one, is a 422; another user’s chat is a 404', async () => {
    const owner = await newUser();
    const chat = await newChat(owner.user_id);
    const other = await newChat();
    const foreign = await add(other.chat_id, 'elsewhere');
    for (const parent_id of [foreign.message_id, 999_999_999]) {
      const reply = await call('POST', `/chats/${chat.chat_id}/messages?user_id=${owner.user_id}`, {
        content: 'x',
        sender: 'user',
        parent_id,
      });
      expect(reply.status).toBe(422);
      expect(reply.json.detail).toMatch(/^parent_id: message \d+ is not in chat \d+$/);
    }
    const intruder = await newUser();
    const denied = await call('POST', `/chats/${chat.chat_id}/messages?user_id=${intruder.user_id}`, {
      content: 'x',
      sender: 'user',
      parent_id: foreign.message_id,
    });
    expect(denied.status).toBe(404);
    const wrongBranch = await call('PUT', `/chats/${chat.chat_id}/active-branch?user_id=${owner.user_id}`, {
      message_id: foreign.message_id,
    });
    expect(wrongBranch.status).toBe(422);
    const notOwner = await call('PUT', `/chats/${chat.chat_id}/active-branch?user_id=${intruder.user_id}`, {
      message_id: foreign.message_id,
    });
    expect(notOwner.status).toBe(404);
    expect(await db().message.count({ where: { chat_id: chat.chat_id } })).toBe(0);
    const markdownTree = await call('GET', `/chats/${other.chat_id}/export?format=markdown&tree=true`);
    expect(markdownTree.status).toBe(422);
  });
});

describe('a long branched chat', () => {
  it('reads a path of 1,200 messages (more IDs than SQLite takes as parameters of one query)', async () => {
    const chat = await newChat();
    await db().message.createMany({
      data: Array.from({ length: 1200 }, (_, i) => ({ chat_id: chat.chat_id, content: `m${i}`, sender: 'user' })),
    });
    const rows = await db().message.findMany({ where: { chat_id: chat.chat_id }, orderBy: { message_id: 'asc' } });
    // One line: each message follows the one before.
    for (let i = 1; i < rows.length; i++) {
      await db().message.update({
        where: { message_id: (rows[i] as M).message_id },
        data: { parent_id: (rows[i - 1] as M).message_id },
      });
    }
    await db().chat.update({
      where: { chat_id: chat.chat_id },
      data: { active_leaf_id: rows.at(-1)?.message_id },
    });
    // A branch from the 1,150th message: the active path is 1,151 messages long.
    const fork = await add(chat.chat_id, 'fork', { parent_id: (rows[1149] as M).message_id });
    const read = await call('GET', `/chats/${chat.chat_id}`);
    expect(read.status).toBe(200);
    expect(read.json.messages.at(-1).content).toBe('fork');
    expect(read.json.messages.at(-2).content).toBe('m1149');
    expect(read.json.messages.map((m: M) => m.content)).not.toContain('m1150');
    const page = await call('GET', `/chats/${chat.chat_id}/messages?limit=200`);
    expect(page.status).toBe(200);
    expect(page.json.items.map((m: M) => m.message_id).at(-1)).toBe(fork.message_id);
    const back = await call('GET', `/chats/${chat.chat_id}/messages?limit=200&before=${page.json.prev_cursor}`);
    expect(back.json.items.at(-1).content).toBe('m950');
    const exported = await call('GET', `/chats/${chat.chat_id}/export?format=json`);
    expect(exported.status).toBe(200);
    expect(JSON.parse(exported.text).messages).toHaveLength(1151);
  });
});

describe('siblings in a subscription', () => {
  it('count a version added after the subscription began', async () => {
    const server = await listen();
    try {
      const chat = await newChat();
      const q = await add(chat.chat_id, 'question');
      const sub = await subscribe(
        server.base,
        'subscription($c: Int!) { message_added(chat_id: $c) { content siblings { position count } } }',
        { c: chat.chat_id },
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await add(chat.chat_id, 'answer', { parent_id: q.message_id }, 'ai');
        expect((await sub.next()).data.message_added).toEqual({
          content: 'answer',
          siblings: { position: 1, count: 1 },
        });
        await add(chat.chat_id, 'answer, again', { parent_id: q.message_id }, 'ai');
        expect((await sub.next()).data.message_added).toEqual({
          content: 'answer, again',
          siblings: { position: 2, count: 2 },
        });
      } finally {
        sub.close();
      }
    } finally {
      await server.close();
    }
  });
});
