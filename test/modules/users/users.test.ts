import { call, gql, isoUtc, keysOf, unique } from '../../support/http';

describe('POST /chats/users', () => {
  it('creates a user with exactly the documented keys, email stored lower-case', async () => {
    const name = unique('Create');
    const r = await call('POST', '/chats/users', { username: name, email: `${name}@Example.COM` });
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(['created_at', 'email', 'user_id', 'username']);
    expect(r.json).toMatchObject({ username: name, email: `${name.toLowerCase()}@example.com` });
    expect(Number.isInteger(r.json.user_id)).toBe(true);
    expect(isoUtc(r.json.created_at)).toBe(true);
  });

  it('returns the existing user for a known email, compared case-insensitively, username unchanged', async () => {
    const name = unique('again');
    const a = await call('POST', '/chats/users', { username: 'first', email: `${name}@example.com` });
    const b = await call('POST', '/chats/users', { username: 'second', email: `  ${name.toUpperCase()}@EXAMPLE.com ` });
    expect(b.status).toBe(200);
    expect(b.json).toEqual(a.json);
  });

  it.each([
    [{ username: 'x', email: 'not-an-email' }],
    [{ username: 'x', email: '' }],
    [{ username: 'x' }],
    [{ email: 'someone@example.com' }],
    [{ username: '   ', email: 'blank@example.com' }],
    [{ username: 'x'.repeat(101), email: 'long@example.com' }],
    [{ username: 42, email: 'num@example.com' }],
    [{ username: 'x', email: ['a@example.com'] }],
  ])('rejects %j with 422 and a detail', async (body) => {
    const r = await call('POST', '/chats/users', body);
    expect(r.status).toBe(422);
    expect(typeof r.json.detail).toBe('string');
  });

  it('writes nothing when it rejects', async () => {
    const name = unique('nothing');
    await call('POST', '/chats/users', { username: '', email: `${name}@example.com` });
    const r = await call('POST', '/chats/users', { username: 'real', email: `${name}@example.com` });
    expect(r.json.username).toBe('real');
  });
});

describe('GraphQL users', () => {
  it('create_or_get_user and user(user_id) with the user’s chats', async () => {
    const name = unique('gql');
    const created = await gql(
      `mutation($n: String!, $e: String!) { create_or_get_user(username: $n, email: $e) { user_id username email } }`,
      { n: name, e: `${name}@example.com` },
    );
    const user = created.json.data.create_or_get_user;
    expect(user).toMatchObject({ username: name, email: `${name}@example.com` });
    const read = await gql(`query($id: Int!) { user(user_id: $id) { user_id email chats { chat_id } } }`, {
      id: user.user_id,
    });
    expect(read.json.data.user).toEqual({ user_id: user.user_id, email: user.email, chats: [] });
  });

  it('codes an unknown user NOT_FOUND and a bad email BAD_USER_INPUT', async () => {
    const missing = await gql(`{ user(user_id: 2147480000) { user_id } }`);
    expect(missing.json.errors[0].extensions.code).toBe('NOT_FOUND');
    const bad = await gql(`mutation { create_or_get_user(username: "x", email: "nope") { user_id } }`);
    expect(bad.json.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(bad.json.errors[0].message).toMatch(/email/);
  });
});
