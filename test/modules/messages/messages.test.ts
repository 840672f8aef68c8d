import { addMessage, call, gql, isoUtc, keysOf, newChat, newUser } from '../../support/http';

describe('POST /chats/{chat_id}/messages', () => {
  it('adds a message with exactly the documented keys', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    const r = await call('POST', `/chats/${c.chat_id}/messages?user_id=${u.user_id}`, {
      content: 'Hello, I need help with data analysis',
      sender: 'user',
    });
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(['chat_id', 'content', 'message_id', 'sender', 'timestamp']);
    expect(r.json).toMatchObject({
      chat_id: c.chat_id,
      content: 'Hello, I need help with data analysis',
      sender: 'user',
    });
    expect(isoUtc(r.json.timestamp)).toBe(true);
  });

  it('stores text byte for byte: unicode, control characters, quotes, SQL-looking strings, surrounding spaces', async () => {
    const c = await newChat();
    const samples = [
      '  padded  ',
      'emoji 👩‍💻 and 中文',
      'bell\u0007 and \u001b escape',
      `'; DROP TABLE "Message"; --`,
      'line\nbreak\ttab',
    ];
    for (const content of samples) {
      const m = await addMessage(c.chat_id, content, 'ai');
      expect(m.content).toBe(content);
    }
    const r = await call('GET', `/chats/${c.chat_id}`);
    expect(r.json.messages.map((m: { content: string }) => m.content)).toEqual(samples);
  });

  it('accepts user_id in the body as well as the query', async () => {
    const u = await newUser();
    const c = await newChat(u.user_id);
    const r = await call('POST', `/chats/${c.chat_id}/messages`, { content: 'x', sender: 'ai', user_id: u.user_id });
    expect(r.status).toBe(200);
  });

  it('with another user’s user_id is 404 and adds nothing', async () => {
    const a = await newUser();
    const b = await newUser();
    const c = await newChat(a.user_id);
    const r = await call('POST', `/chats/${c.chat_id}/messages?user_id=${b.user_id}`, {
      content: 'intruder',
      sender: 'user',
    });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ detail: `Chat with ID ${c.chat_id} not found or access denied` });
    expect((await call('GET', `/chats/${c.chat_id}`)).json.messages).toEqual([]);
  });

  it('is 404 for an unknown chat', async () => {
    const r = await call('POST', '/chats/2147480000/messages', { content: 'x', sender: 'user' });
    expect(r.status).toBe(404);
  });

  it.each([
    [{ sender: 'user' }, 'content'],
    [{ content: '', sender: 'user' }, 'content'],
    [{ content: ' \n\t ', sender: 'user' }, 'content'],
    [{ content: 123, sender: 'user' }, 'content'],
    [{ content: 'nul\u0000byte', sender: 'user' }, 'content'],
    [{ content: null, sender: 'user' }, 'content'],
    [{ content: 'x' }, 'sender'],
    [{ content: 'x', sender: 'bot' }, 'sender'],
    [{ content: 'x', sender: 'USER' }, 'sender'],
    [{ content: 'x', sender: 1 }, 'sender'],
  ])('rejects %j with 422 naming %s, and adds nothing', async (body, field) => {
    const c = await newChat();
    const r = await call('POST', `/chats/${c.chat_id}/messages`, body);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(field);
    expect((await call('GET', `/chats/${c.chat_id}`)).json.messages).toEqual([]);
  });

  it('rejects content longer than the configured maximum', async () => {
    const c = await newChat();
    const r = await call('POST', `/chats/${c.chat_id}/messages`, { content: 'x'.repeat(100_001), sender: 'user' });
    expect(r.status).toBe(422);
    expect(
      (await call('POST', `/chats/${c.chat_id}/messages`, { content: 'x'.repeat(100_000), sender: 'user' })).status,
    ).toBe(200);
  });
});

describe('GraphQL add_message', () => {
  it('adds a message and codes failures', async () => {
    const c = await newChat();
    const ok = await gql(
      `mutation($id: Int!) { add_message(chat_id: $id, content: "hi", sender: ai) { content sender chat { chat_id } } }`,
      { id: c.chat_id },
    );
    expect(ok.json.data.add_message).toEqual({ content: 'hi', sender: 'ai', chat: { chat_id: c.chat_id } });
    const surrogate = await gql(
      `mutation($id: Int!, $c: String!) { add_message(chat_id: $id, content: $c, sender: ai) { content } }`,
      { id: c.chat_id, c: 'lone \ud800 surrogate' },
    );
    expect(surrogate.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const blank = await gql(`mutation($id: Int!) { add_message(chat_id: $id, content: " ", sender: ai) { content } }`, {
      id: c.chat_id,
    });
    expect(blank.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const missing = await gql(`mutation { add_message(chat_id: 2147480000, content: "x", sender: user) { content } }`);
    expect(missing.json.errors[0].extensions.code).toBe('NOT_FOUND');
  });
});
