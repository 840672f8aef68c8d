import { adminGql, createUser, describeMatrix } from '../support/auth-matrix';
import { configureGateway, db } from '../support/gateway';
import { call, gql } from '../support/http';
import { API_KEY_AUTH } from '../support/settings';

configureGateway(API_KEY_AUTH);

let a = 0;
let b = 0;
const keys: Record<string, string> = {};

async function createKey(userId: number) {
  const data = await adminGql(
    'mutation($u: Int!) { create_api_key(user_id: $u, name: "test") { api_key key { api_key_id key_prefix user_id } } }',
    { u: userId },
  );
  return data.create_api_key;
}

beforeAll(async () => {
  a = await createUser('key-a');
  b = await createUser('key-b');
  keys.a = (await createKey(a)).api_key;
  keys.b = (await createKey(b)).api_key;
});

describe('AUTH_MODE=api-key: route × caller matrix', () => {
  describeMatrix(
    () => ({ a, b }),
    () => ({
      anonymous: {},
      owner: { 'x-api-key': keys.a as string },
      other: { 'x-api-key': keys.b as string },
      admin: { 'x-admin-api-key': 'test-admin-key' },
    }),
  );
});

describe('AUTH_MODE=api-key: keys', () => {
  it('stores only a hash: the key itself is nowhere in the database', async () => {
    const created = await createKey(a);
    expect(created.api_key).toMatch(/^cgk_[\w-]{40,}$/);
    expect(created.key.key_prefix).toBe(created.api_key.slice(0, 10));
    const rows = await db().apiKey.findMany();
    expect(JSON.stringify(rows)).not.toContain(created.api_key);
  });

  it('a revoked key is refused with 401', async () => {
    const created = await createKey(a);
    const headers = { 'x-api-key': created.api_key };
    expect((await call('GET', '/chats/', undefined, headers)).status).toBe(200);
    await adminGql('mutation($id: Int!) { revoke_api_key(api_key_id: $id) { revoked_at } }', {
      id: created.key.api_key_id,
    });
    const r = await call('GET', '/chats/', undefined, headers);
    expect(r.status).toBe(401);
    expect(r.json.detail).toMatch(/revoked/);
  });

  it('an unknown key is refused with 401', async () => {
    expect((await call('GET', '/chats/', undefined, { 'x-api-key': 'cgk_nope' })).status).toBe(401);
  });

  it('only an admin creates keys', async () => {
    const g = await gql(
      'mutation($u: Int!) { create_api_key(user_id: $u) { api_key } }',
      { u: a },
      {
        'x-api-key': keys.a as string,
      },
    );
    expect(g.json.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
