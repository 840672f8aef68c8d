import { addMessage, call, gql, isoUtc, keysOf, newChat, newUser } from '../../support/http';

const CHAT_KEYS = ['chat_id', 'created_at', 'title', 'user_id'];
const MESSAGE_KEYS = ['chat_id', 'content', 'message_id', 'sender', 'timestamp'];

describe('POST /chats/', () => {
  it('creates a chat titled "New Chat" with exactly the documented keys', async () => {
    const u = await newUser();
    const r = await call('POST', '/chats/', { user_id: u.user_id });
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(CHAT_KEYS);
    expect(r.json).toMatchObject({ user_id: u.user_id, title: 'New Chat' });
    expect(Number.isInteger(r.json.chat_id)).toBe(true);
    expect(isoUtc(r.json.created_at)).toBe(true);
  });

  it('creates an anonymous chat without user_id, also without the trailing slash', async () => {
    const r = await call('POST', '/chats', {});
    expect(r.status).toBe(200);
    expect(r.json.user_id).toBeNull();
    const empty = await call('POST', '/chats/');
    expect(empty.status).toBe(200);
    expect(empty.json.user_id).toBeNull();
  });

  it('ignores fields the spec does not list', async () => {
    const u = await newUser();
    const r = await call('POST', '/chats/?is_admin=true&foo=1', { user_id: u.user_id, is_admin: false, extra: [1] });
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(CHAT_KEYS);
  });

  it('rejects an unknown user and a non-integer user_id with 422', async () => {
    const unknown = await call('POST', '/chats/', { user_id: 2_000_000_000 });
    expect(unknown.status).toBe(422);
    expect(unknown.json.detail).toMatch(/User with ID 2000000000 not found/);
    for (const user_id of ['1', 1.5, true, [1], { a: 1 }]) {
      const r = await call('POST', '/chats/', { user_id });
      expect([r.status, typeof r.json.detail]).toEqual([422, 'string']);
    }
  });

  it('never reuses an id after a delete', async () => {
    const a = await newChat();
    expect((await call('DELETE', `/chats/${a.chat_id}`)).status).toBe(200);
    const b = await newChat();
    expect(b.chat_id).toBeGreaterThan(a.chat_id);
  });
});

describe('GET /chats/{chat_id}', () => {
  it('returns the chat and its messages ordered by time, ties by message_id', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    for (let i = 0; i < 6; i++) await addMessage(c.chat_id, `message ${i}`, i % 2 ? 'ai' : 'user');
    const r = await call('GET', `/chats/${c.chat_id}?user_id=${u.user_id}`);
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual([...CHAT_KEYS, 'messages'].sort());
    expect(r.json).toMatchObject({
      chat_id: c.chat_id,
      user_id: u.user_id,
      title: 'New Chat',
      created_at: c.created_at,
    });
    expect(r.json.messages.map((m: { content: string }) => m.content)).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => `message ${i}`),
    );
    for (const m of r.json.messages) expect(keysOf(m)).toEqual(MESSAGE_KEYS);
    const ids = r.json.messages.map((m: { message_id: number }) => m.message_id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('is 404 with the documented detail for an unknown chat', async () => {
    const r = await call('GET', '/chats/2147480000');
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ detail: 'Chat with ID 2147480000 not found or access denied' });
  });

  it('applies the access rule: another user gets the same 404, the owner and anyone on an anonymous chat get 200', async () => {
    const owner = await newUser('owner');
    const other = await newUser('other');
    const c = await newChat(owner.user_id);
    const denied = await call('GET', `/chats/${c.chat_id}?user_id=${other.user_id}`);
    expect(denied.status).toBe(404);
    expect(denied.json).toEqual({ detail: `Chat with ID ${c.chat_id} not found or access denied` });
    expect((await call('GET', `/chats/${c.chat_id}?user_id=${owner.user_id}`)).status).toBe(200);
    expect((await call('GET', `/chats/${c.chat_id}`)).status).toBe(200);
    const anonymous = await newChat();
    expect((await call('GET', `/chats/${anonymous.chat_id}?user_id=${other.user_id}`)).status).toBe(200);
  });

  it('rejects ids that are not 32-bit integers with 422', async () => {
    for (const id of ['abc', '1.5', '99999999999', '%E0%A4%A']) {
      const r = await call('GET', `/chats/${id}`);
      expect([id, r.status, typeof r.json.detail]).toEqual([id, 422, 'string']);
    }
    expect((await call('GET', '/chats/1?user_id=x')).status).toBe(422);
  });
});

describe('GET /chats/', () => {
  it('lists newest first (ties by chat_id), default limit 10, with limit and offset', async () => {
    const u = await newUser();
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await newChat(u.user_id)).chat_id);
    const first = await call('GET', `/chats/?user_id=${u.user_id}`);
    expect(first.status).toBe(200);
    expect(first.json).toHaveLength(10);
    for (const c of first.json) expect(keysOf(c)).toEqual(CHAT_KEYS);
    const rest = await call('GET', `/chats?user_id=${u.user_id}&limit=5&offset=10`);
    expect(rest.json).toHaveLength(2);
    expect([...first.json, ...rest.json].map((c: { chat_id: number }) => c.chat_id)).toEqual([...ids].reverse());
  });

  it('without user_id lists everyone’s chats', async () => {
    const a = await newChat((await newUser()).user_id);
    const b = await newChat();
    const r = await call('GET', '/chats/?limit=100');
    const ids = r.json.map((c: { chat_id: number }) => c.chat_id);
    expect(ids).toEqual(expect.arrayContaining([a.chat_id, b.chat_id]));
  });

  it.each([['limit=0'], ['limit=101'], ['limit=-1'], ['limit=abc'], ['offset=-1'], ['offset=1.5'], ['user_id=abc']])(
    'rejects %s with 422 and a detail',
    async (query) => {
      const r = await call('GET', `/chats/?${query}`);
      expect(r.status).toBe(422);
      expect(typeof r.json.detail).toBe('string');
    },
  );

  it('accepts limit=100', async () => {
    expect((await call('GET', '/chats/?limit=100')).status).toBe(200);
  });
});

describe('PUT /chats/{chat_id}', () => {
  it('renames, keeping everything else', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    const r = await call('PUT', `/chats/${c.chat_id}`, { title: 'Updated Chat Title' });
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(CHAT_KEYS);
    expect(r.json).toEqual({ ...c, title: 'Updated Chat Title' });
    expect((await call('GET', `/chats/${c.chat_id}`)).json.title).toBe('Updated Chat Title');
  });

  it('moves a chat to another existing user; absent or null fields stay unchanged', async () => {
    const a = await newUser();
    const b = await newUser();
    const c = await newChat(a.user_id);
    const moved = await call('PUT', `/chats/${c.chat_id}`, { user_id: b.user_id, title: null });
    expect(moved.json).toMatchObject({ user_id: b.user_id, title: 'New Chat' });
    const same = await call('PUT', `/chats/${c.chat_id}`, {});
    expect(same.json).toEqual(moved.json);
  });

  it('rejects an unknown new owner with 422 and changes nothing', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    const r = await call('PUT', `/chats/${c.chat_id}`, { user_id: 2_000_000_001, title: 'x' });
    expect(r.status).toBe(422);
    expect((await call('GET', `/chats/${c.chat_id}`)).json).toMatchObject({ user_id: u.user_id, title: 'New Chat' });
  });

  it('rejects a blank or over-long title with 422', async () => {
    const c = await newChat();
    for (const title of ['', '   ', 'x'.repeat(201), 5]) {
      const r = await call('PUT', `/chats/${c.chat_id}`, { title });
      expect(r.status).toBe(422);
    }
  });

  it('is 404 for an unknown chat, with or without fields', async () => {
    expect((await call('PUT', '/chats/2147480001', { title: 'x' })).status).toBe(404);
    expect((await call('PUT', '/chats/2147480001', {})).status).toBe(404);
  });
});

describe('DELETE /chats/{chat_id}', () => {
  it('deletes the chat and its messages, keeping its model usage with chat_id null', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    await addMessage(c.chat_id, 'to be deleted');
    const usage = await call(
      'POST',
      `/chats/debug/test-model-usage?model_name=gpt-3.5-turbo&user_id=${u.user_id}&chat_id=${c.chat_id}`,
    );
    expect(usage.status).toBe(200);
    const r = await call('DELETE', `/chats/${c.chat_id}?user_id=${u.user_id}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ message: `Chat ${c.chat_id} deleted successfully`, preserved_model_usage: true });
    expect((await call('GET', `/chats/${c.chat_id}`)).status).toBe(404);
    const rows = await gql(`query($u: Int) { model_usage(user_id: $u) { usage_id chat_id user_id } }`, {
      u: u.user_id,
    });
    expect(rows.json.data.model_usage).toEqual([
      { usage_id: usage.json.usage_recorded.usage_id, chat_id: null, user_id: u.user_id },
    ]);
  });

  it('by another user is 404 and the chat survives', async () => {
    const a = await newUser();
    const b = await newUser();
    const c = await newChat(a.user_id);
    await addMessage(c.chat_id, 'keep me');
    const r = await call('DELETE', `/chats/${c.chat_id}?user_id=${b.user_id}`);
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ detail: `Chat with ID ${c.chat_id} not found or access denied` });
    expect((await call('GET', `/chats/${c.chat_id}`)).json.messages).toHaveLength(1);
  });

  it('is 404 for an unknown chat', async () => {
    expect((await call('DELETE', '/chats/2147480002')).status).toBe(404);
  });
});

describe('POST /chats/cleanup-empty', () => {
  it('deletes only that user’s chats without messages', async () => {
    const u = await newUser();
    const other = await newUser();
    const keep = await newChat(u.user_id);
    await addMessage(keep.chat_id, 'not empty');
    await newChat(u.user_id);
    await newChat(u.user_id);
    const otherEmpty = await newChat(other.user_id);
    const anonymous = await newChat();
    const r = await call('POST', '/chats/cleanup-empty', { user_id: u.user_id, is_admin: false });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ message: 'Deleted 2 empty chats' });
    expect((await call('GET', `/chats/?user_id=${u.user_id}`)).json.map((c: { chat_id: number }) => c.chat_id)).toEqual(
      [keep.chat_id],
    );
    expect((await call('GET', `/chats/${otherEmpty.chat_id}`)).status).toBe(200);
    expect((await call('GET', `/chats/${anonymous.chat_id}`)).status).toBe(200);
  });

  it('with a user_id, is_admin changes nothing', async () => {
    const u = await newUser();
    const other = await newChat((await newUser()).user_id);
    await newChat(u.user_id);
    const r = await call(
      'POST',
      '/chats/cleanup-empty',
      { user_id: u.user_id, is_admin: true },
      { 'x-admin-api-key': 'test-admin-key' },
    );
    expect(r.json).toEqual({ message: 'Deleted 1 empty chats' });
    expect((await call('GET', `/chats/${other.chat_id}`)).status).toBe(200);
  });

  it('needs a user_id unless is_admin', async () => {
    const r = await call('POST', '/chats/cleanup-empty', { is_admin: false });
    expect(r.status).toBe(422);
    expect(typeof r.json.detail).toBe('string');
  });

  it('is_admin without user_id is 403 without the admin key and deletes nothing', async () => {
    const c = await newChat();
    for (const headers of [{}, { 'x-admin-api-key': 'wrong' }, { 'x-admin-api-key': '' }] as Record<string, string>[]) {
      const r = await call('POST', '/chats/cleanup-empty', { is_admin: true }, headers);
      expect(r.status).toBe(403);
      expect(typeof r.json.detail).toBe('string');
    }
    expect((await call('GET', `/chats/${c.chat_id}`)).status).toBe(200);
  });

  it('is_admin without user_id, with the admin key, deletes every empty chat, anonymous ones too', async () => {
    const u = await newUser();
    const full = await newChat(u.user_id);
    await addMessage(full.chat_id, 'hi');
    const a = await newChat(u.user_id);
    const b = await newChat();
    const r = await call('POST', '/chats/cleanup-empty', { is_admin: true }, { 'x-admin-api-key': 'test-admin-key' });
    expect(r.status).toBe(200);
    expect(r.json.message).toMatch(/^Deleted \d+ empty chats$/);
    expect((await call('GET', `/chats/${a.chat_id}`)).status).toBe(404);
    expect((await call('GET', `/chats/${b.chat_id}`)).status).toBe(404);
    expect((await call('GET', `/chats/${full.chat_id}`)).status).toBe(200);
  });
});

describe('GraphQL chats', () => {
  it('serves the same operations with the same names as the REST keys', async () => {
    const u = await newUser();
    const created = await gql(`mutation($u: Int) { create_chat(user_id: $u) { chat_id user_id title created_at } }`, {
      u: u.user_id,
    });
    const chatId = created.json.data.create_chat.chat_id;
    await addMessage(chatId, 'hello');
    const renamed = await gql(`mutation($id: Int!) { update_chat(chat_id: $id, title: "Renamed") { title } }`, {
      id: chatId,
    });
    expect(renamed.json.data.update_chat.title).toBe('Renamed');
    const read = await gql(
      `query($id: Int!, $u: Int) { chat(chat_id: $id, user_id: $u) { title user { username } messages { content sender chat { chat_id } } } }`,
      { id: chatId, u: u.user_id },
    );
    expect(read.json.data.chat).toEqual({
      title: 'Renamed',
      user: { username: u.username },
      messages: [{ content: 'hello', sender: 'user', chat: { chat_id: chatId } }],
    });
    const list = await gql(`query($u: Int) { chats(user_id: $u) { chat_id } }`, { u: u.user_id });
    expect(list.json.data.chats).toEqual([{ chat_id: chatId }]);
    const deleted = await gql(`mutation($id: Int!) { delete_chat(chat_id: $id) { message preserved_model_usage } }`, {
      id: chatId,
    });
    expect(deleted.json.data.delete_chat).toEqual({
      message: `Chat ${chatId} deleted successfully`,
      preserved_model_usage: true,
    });
  });

  it('reports expected failures with extensions.code and HTTP 200', async () => {
    const missing = await gql(`{ chat(chat_id: 2147480003) { chat_id } }`);
    expect(missing.status).toBe(200);
    expect(missing.json.errors[0]).toMatchObject({
      message: 'Chat with ID 2147480003 not found or access denied',
      extensions: { code: 'NOT_FOUND' },
    });
    const tooMany = await gql(`{ chats(limit: 101) { chat_id } }`);
    expect(tooMany.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const admin = await gql(`mutation { cleanup_empty_chats(is_admin: true) { message } }`);
    expect(admin.json.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('pages a user’s chats through User.chats', async () => {
    const u = await newUser();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await newChat(u.user_id)).chat_id);
    const r = await gql(`query($u: Int!) { user(user_id: $u) { chats(limit: 2, offset: 1) { chat_id } } }`, {
      u: u.user_id,
    });
    expect(r.json.data.user.chats.map((c: { chat_id: number }) => c.chat_id)).toEqual([ids[1], ids[0]]);
  });
});
