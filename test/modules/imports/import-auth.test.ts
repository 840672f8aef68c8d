import { SignJWT } from 'jose';
import { createUser } from '../../support/auth-matrix';
import { configureGateway, db } from '../../support/gateway';
import { call, listen } from '../../support/http';
import { JWT_AUTH, JWT_SECRET } from '../../support/settings';
import { subscribe } from '../../support/sse';

// With authentication on, an import is the caller's: their chats, their events, nobody else's name.
configureGateway(JWT_AUTH);

const tokenFor = (userId: number) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(userId))
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));

const chat = { title: 'Mine', messages: [{ content: 'hello', sender: 'user' }] };

it('imports as the caller, tells their subscribers, and refuses another user’s name', async () => {
  const a = await createUser('import-a');
  const b = await createUser('import-b');
  const asA = { authorization: `Bearer ${await tokenFor(a)}` };
  const server = await listen();
  const sub = await subscribe(
    server.base,
    'subscription($u: Int!) { chat_changed(user_id: $u) { kind chat_id } }',
    { u: a },
    asA,
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const mine = await call('POST', '/chats/import', [chat, chat], asA);
    expect(mine.status).toBe(200);
    const [first, second] = mine.json.chat_ids as number[];
    expect((await sub.next()).data.chat_changed).toEqual({ kind: 'CREATED', chat_id: first });
    expect((await sub.next()).data.chat_changed).toEqual({ kind: 'CREATED', chat_id: second });
    const owners = await db().chat.findMany({ where: { chat_id: { in: [first as number, second as number] } } });
    expect(owners.map((c) => c.user_id)).toEqual([a, a]);
  } finally {
    sub.close();
    await server.close();
  }
  const before = await db().chat.count();
  const forB = await call('POST', `/chats/import?user_id=${b}`, [chat], asA);
  expect([forB.status, forB.json.detail]).toEqual([403, 'You can only import chats for yourself']);
  const anonymous = await call('POST', '/chats/import', [chat]);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
  expect(await db().chat.count()).toBe(before);
});
