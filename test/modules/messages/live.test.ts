import { call, gql, listen, newChat, newUser } from '../../support/http';
import { subscribe } from '../../support/sse';

// Subscriptions need a real socket: the server runs in this process on a free port.
let server: Awaited<ReturnType<typeof listen>>;
let base = '';
beforeAll(async () => {
  server = await listen();
  base = server.base;
});
afterAll(() => server.close());

const MESSAGE_ADDED =
  'subscription($c: Int!, $u: Int) { message_added(chat_id: $c, user_id: $u) { message_id content sender } }';

describe('message_added over Server-Sent Events', () => {
  it('delivers a message written through REST to a subscriber', async () => {
    const c = await newChat();
    const sub = await subscribe(base, MESSAGE_ADDED, { c: c.chat_id });
    expect(sub.status).toBe(200);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const added = await call('POST', `/chats/${c.chat_id}/messages`, { content: 'live!', sender: 'ai' });
      const event = await sub.next();
      expect(event).toEqual({
        data: { message_added: { message_id: added.json.message_id, content: 'live!', sender: 'ai' } },
      });
    } finally {
      sub.close();
    }
  });

  it('applies the access rule: another user’s chat is not found', async () => {
    const owner = await newUser();
    const other = await newUser();
    const c = await newChat(owner.user_id);
    const sub = await subscribe(base, MESSAGE_ADDED, { c: c.chat_id, u: other.user_id });
    try {
      const event = await sub.next();
      expect(event.errors[0].extensions.code).toBe('NOT_FOUND');
    } finally {
      sub.close();
    }
  });
});

describe('a subscription keeps checking access', () => {
  it('ends when the chat moves to another user', async () => {
    const a = await newUser();
    const b = await newUser();
    const c = await newChat(); // anonymous: b may follow it
    const sub = await subscribe(base, MESSAGE_ADDED, { c: c.chat_id, u: b.user_id });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await call('POST', `/chats/${c.chat_id}/messages`, { content: 'before', sender: 'user' });
      expect((await sub.next()).data.message_added.content).toBe('before');
      await call('PUT', `/chats/${c.chat_id}`, { user_id: a.user_id });
      await call('POST', `/chats/${c.chat_id}/messages`, { content: 'private now', sender: 'user' });
      await expect(sub.next(2000)).rejects.toThrow('stream ended');
    } finally {
      sub.close();
    }
  });
});

describe('streaming an AI answer', () => {
  const APPEND =
    'mutation($m: Int!, $d: String!, $done: Boolean) { append_to_message(message_id: $m, delta: $d, complete: $done) { content is_complete } }';

  it('appends deltas, tells subscribers each one, and completes', async () => {
    const c = await newChat();
    const started = await call('POST', `/chats/${c.chat_id}/messages`, { content: '', sender: 'ai', streaming: true });
    expect(started.status).toBe(200);
    const id = started.json.message_id;
    const sub = await subscribe(
      base,
      'subscription($c: Int!) { message_updated(chat_id: $c) { delta complete message { message_id content is_complete } } }',
      { c: c.chat_id },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await gql(APPEND, { m: id, d: 'Hel' })).json.data.append_to_message).toEqual({
        content: 'Hel',
        is_complete: false,
      });
      expect((await sub.next()).data.message_updated).toEqual({
        delta: 'Hel',
        complete: false,
        message: { message_id: id, content: 'Hel', is_complete: false },
      });
      await gql(APPEND, { m: id, d: 'lo', done: true });
      expect((await sub.next()).data.message_updated).toMatchObject({ delta: 'lo', complete: true });
      const again = await gql(APPEND, { m: id, d: '!' });
      expect(again.json.errors[0].extensions.code).toBe('CONFLICT');
      const chat = await call('GET', `/chats/${c.chat_id}`);
      expect(chat.json.messages[0].content).toBe('Hello');
    } finally {
      sub.close();
    }
  });

  it('only AI messages stream, and an empty message needs streaming', async () => {
    const c = await newChat();
    expect(
      (await call('POST', `/chats/${c.chat_id}/messages`, { content: '', sender: 'user', streaming: true })).status,
    ).toBe(422);
    expect((await call('POST', `/chats/${c.chat_id}/messages`, { content: '', sender: 'ai' })).status).toBe(422);
    const done = await call('POST', `/chats/${c.chat_id}/messages`, { content: 'final', sender: 'ai' });
    expect((await gql(APPEND, { m: done.json.message_id, d: 'x' })).json.errors[0].extensions.code).toBe('CONFLICT');
  });
});

describe('chat_changed', () => {
  it('tells a user’s tabs about chats created, renamed and deleted', async () => {
    const u = await newUser();
    const sub = await subscribe(
      base,
      'subscription($u: Int!) { chat_changed(user_id: $u) { kind chat_id chat { title } } }',
      {
        u: u.user_id,
      },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const c = await newChat(u.user_id);
      expect((await sub.next()).data.chat_changed).toEqual({
        kind: 'CREATED',
        chat_id: c.chat_id,
        chat: { title: 'New Chat' },
      });
      await call('PUT', `/chats/${c.chat_id}`, { title: 'Renamed' });
      expect((await sub.next()).data.chat_changed).toEqual({
        kind: 'UPDATED',
        chat_id: c.chat_id,
        chat: { title: 'Renamed' },
      });
      await call('DELETE', `/chats/${c.chat_id}`);
      expect((await sub.next()).data.chat_changed).toEqual({ kind: 'DELETED', chat_id: c.chat_id, chat: null });
    } finally {
      sub.close();
    }
  });
});

describe('chat_changed reports organisation', () => {
  it('moved, tagged, pinned and archived, once per change and only for a real change', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    const folder = (await call('POST', '/folders', { user_id: u.user_id, name: 'Work' })).json.folder_id;
    const sub = await subscribe(
      base,
      'subscription($u: Int!) { chat_changed(user_id: $u) { kind chat_id chat { folder_id pinned archived tags } } }',
      { u: u.user_id },
    );
    const next = async () => (await sub.next()).data.chat_changed as { kind: string; chat_id: number };
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      // One update that changes four things: four events, in a fixed order.
      await call('PUT', `/chats/${c.chat_id}`, { folder_id: folder, tags: ['a'], pinned: true, archived: true });
      const kinds = [await next(), await next(), await next(), await next()];
      expect(kinds.map((k) => k.kind)).toEqual(['MOVED', 'TAGGED', 'PINNED', 'ARCHIVED']);
      expect(kinds[3]).toEqual({
        kind: 'ARCHIVED',
        chat_id: c.chat_id,
        chat: { folder_id: folder, pinned: true, archived: true, tags: ['a'] },
      });
      // Pinning a pinned chat and giving the same tags change nothing: no event, so the next is the unpin.
      await call('PUT', `/chats/${c.chat_id}`, { pinned: true, tags: ['A'] });
      await call('PUT', `/chats/${c.chat_id}`, { pinned: false, archived: false });
      expect([(await next()).kind, (await next()).kind]).toEqual(['UNPINNED', 'UNARCHIVED']);
      // Deleting the folder moves its chats out.
      await call('DELETE', `/folders/${folder}`);
      expect(await next()).toEqual({
        kind: 'MOVED',
        chat_id: c.chat_id,
        chat: { folder_id: null, pinned: false, archived: false, tags: ['a'] },
      });
    } finally {
      sub.close();
    }
  });
});

describe('long chats', () => {
  it('pages messages by cursor over REST: newest page first, then older and newer pages', async () => {
    const c = await newChat();
    for (let i = 0; i < 7; i++)
      await call('POST', `/chats/${c.chat_id}/messages`, { content: `m${i}`, sender: 'user' });
    const newest = await call('GET', `/chats/${c.chat_id}/messages?limit=3`);
    expect(Object.keys(newest.json).sort()).toEqual(['items', 'next_cursor', 'prev_cursor']);
    expect(newest.json.items.map((m: { content: string }) => m.content)).toEqual(['m4', 'm5', 'm6']);
    expect(newest.json.next_cursor).toBeNull();
    const older = await call('GET', `/chats/${c.chat_id}/messages?limit=3&before=${newest.json.prev_cursor}`);
    expect(older.json.items.map((m: { content: string }) => m.content)).toEqual(['m1', 'm2', 'm3']);
    const oldest = await call('GET', `/chats/${c.chat_id}/messages?limit=3&before=${older.json.prev_cursor}`);
    expect(oldest.json.items.map((m: { content: string }) => m.content)).toEqual(['m0']);
    expect(oldest.json.prev_cursor).toBeNull();
    const forward = await call('GET', `/chats/${c.chat_id}/messages?limit=2&after=${oldest.json.next_cursor}`);
    expect(forward.json.items.map((m: { content: string }) => m.content)).toEqual(['m1', 'm2']);
    expect((await call('GET', `/chats/${c.chat_id}/messages?before=garbage`)).status).toBe(422);
    const huge = Buffer.from('999999999999999:9999999999').toString('base64url');
    expect((await call('GET', `/chats/${c.chat_id}/messages?after=${huge}`)).status).toBe(422);
    expect((await call('GET', `/chats/${c.chat_id}/messages?limit=0`)).status).toBe(422);
  });

  it('pages Relay-style over GraphQL, and counts messages without a query per chat', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    for (let i = 0; i < 5; i++)
      await call('POST', `/chats/${c.chat_id}/messages`, { content: `m${i}`, sender: 'user' });
    const q = `query($c: Int!, $after: String) { chat(chat_id: $c) { message_count last_message_at
      messages_page(first: 2, after: $after) { edges { cursor node { content } } page_info { has_next_page has_previous_page end_cursor } } } }`;
    const first = (await gql(q, { c: c.chat_id })).json.data.chat;
    expect(first.message_count).toBe(5);
    expect(first.last_message_at).toEqual(expect.any(String));
    expect(first.messages_page.edges.map((e: { node: { content: string } }) => e.node.content)).toEqual(['m0', 'm1']);
    expect(first.messages_page.page_info).toMatchObject({ has_next_page: true, has_previous_page: false });
    const second = (await gql(q, { c: c.chat_id, after: first.messages_page.page_info.end_cursor })).json.data.chat;
    expect(second.messages_page.edges.map((e: { node: { content: string } }) => e.node.content)).toEqual(['m2', 'm3']);
  });
});

describe('export', () => {
  it('downloads a chat as Markdown or JSON, with the access rule', async () => {
    const owner = await newUser();
    const other = await newUser();
    const c = await newChat(owner.user_id);
    await call('POST', `/chats/${c.chat_id}/messages`, { content: 'Plot revenue by month', sender: 'user' });
    const md = await call('GET', `/chats/${c.chat_id}/export?format=markdown&user_id=${owner.user_id}`);
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(md.headers.get('content-disposition')).toBe(`attachment; filename="chat-${c.chat_id}.md"`);
    expect(md.text).toMatch(/^# New Chat\n/);
    expect(md.text).toContain('Plot revenue by month');
    const json = await call('GET', `/chats/${c.chat_id}/export`);
    expect(json.headers.get('content-disposition')).toBe(`attachment; filename="chat-${c.chat_id}.json"`);
    expect(json.json).toMatchObject({
      chat_id: c.chat_id,
      messages: [{ content: 'Plot revenue by month', sender: 'user' }],
    });
    expect((await call('GET', `/chats/${c.chat_id}/export?user_id=${other.user_id}`)).status).toBe(404);
    expect((await call('GET', `/chats/${c.chat_id}/export?format=pdf`)).status).toBe(422);
    const g = await gql('query($c: Int!) { export_chat(chat_id: $c, format: markdown) { filename content } }', {
      c: c.chat_id,
    });
    expect(g.json.data.export_chat.filename).toBe(`chat-${c.chat_id}.md`);
  });
});
