import { SignJWT } from 'jose';
import { createUser, describeMatrix } from '../support/auth-matrix';
import { configureGateway } from '../support/gateway';
import { call, gql } from '../support/http';
import { JWT_AUTH, JWT_SECRET as SECRET } from '../support/settings';

configureGateway(JWT_AUTH);

const key = new TextEncoder().encode(SECRET);
const sign = (claims: Record<string, unknown>, sub?: string, secret = key, expiresIn = '5m') => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresIn);
  if (sub) jwt.setSubject(sub);
  return jwt.sign(secret);
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let a = 0;
let b = 0;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  a = await createUser('jwt-a');
  b = await createUser('jwt-b');
  tokens.a = await sign({}, String(a));
  tokens.b = await sign({}, String(b));
  tokens.admin = await sign({ role: 'admin' });
});

describe('AUTH_MODE=jwt: route × caller matrix', () => {
  describeMatrix(
    () => ({ a, b }),
    () => ({
      anonymous: {},
      owner: bearer(tokens.a as string),
      other: bearer(tokens.b as string),
      admin: bearer(tokens.admin as string),
    }),
  );
});

describe('AUTH_MODE=jwt: credentials', () => {
  it.each([
    [
      'a token signed with another secret',
      async () => bearer(await sign({}, String(a), new TextEncoder().encode('x'.repeat(40)))),
    ],
    ['an expired token', async () => bearer(await sign({}, String(a), key, '-1m'))],
    ['a token whose sub is not a user ID', async () => bearer(await sign({}, 'alice'))],
    ['a malformed token', async () => bearer('not.a.jwt')],
    [
      'a token without an expiry',
      async () => bearer(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(String(a)).sign(key)),
    ],
    ['a non-Bearer Authorization header', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
  ])('refuses %s: 401 with WWW-Authenticate on REST, UNAUTHENTICATED on GraphQL', async (_name, headers) => {
    const h = await headers();
    const r = await call('GET', '/chats/', undefined, h);
    expect(r.status).toBe(401);
    expect(typeof r.json.detail).toBe('string');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    const g = await gql('{ chats { chat_id } }', {}, h);
    expect(g.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('a user token without user_id acts as that user; its chats are its own', async () => {
    const created = await call('POST', '/chats/', {}, bearer(tokens.a as string));
    expect(created.json.user_id).toBe(a);
    const list = await call('GET', '/chats/?limit=100', undefined, bearer(tokens.a as string));
    expect(list.json.every((c: { user_id: number }) => c.user_id === a)).toBe(true);
  });

  it('the admin key still works', async () => {
    const r = await call('POST', '/chats/cleanup-empty', { is_admin: true }, { 'x-admin-api-key': 'test-admin-key' });
    expect(r.status).toBe(200);
  });

  it('health, docs and the schema stay reachable without a token', async () => {
    for (const path of ['/health', '/ready', '/openapi.json', '/docs']) {
      expect([path, (await call('GET', path)).status]).toEqual([path, 200]);
    }
  });

  it('a share link opens without a token, and with a refused one; making one still needs the owner', async () => {
    const created = await call('POST', '/chats/', {}, bearer(tokens.a as string));
    const path = `/chats/${created.json.chat_id}/shares`;
    expect((await call('POST', path, {})).status).toBe(401);
    const link = await call('POST', path, {}, bearer(tokens.a as string));
    expect(link.status).toBe(200);
    for (const headers of [{}, bearer('not.a.jwt'), bearer(await sign({}, String(a), key, '-1m'))]) {
      const r = await call('GET', `/shared/${link.json.token}`, undefined, headers);
      expect([r.status, r.json?.title]).toEqual([200, created.json.title]);
    }
  });
});
