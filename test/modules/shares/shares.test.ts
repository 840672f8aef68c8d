import { db } from '../../support/gateway';
import { http, startGateway, stopGateway } from '../../support/gateway-process';
import { call, callFetch, gql, isoUtc, listen, newChat, newUser } from '../../support/http';
import { subscribe } from '../../support/sse';

// Share links: a snapshot of a chat's active branch, readable by anyone with the token.

type Share = { share_id: number; token: string; url: string; created_at: string; expires_at: string | null };

async function add(chatId: number, content: string, sender = 'user', extra: Record<string, unknown> = {}) {
  const r = await call('POST', `/chats/${chatId}/messages`, { content, sender, ...extra });
  if (r.status !== 200) throw new Error(`add message: ${r.status} ${r.text}`);
  return r.json as { message_id: number };
}

async function share(chatId: number, userId: number, body: Record<string, unknown> = {}): Promise<Share> {
  const r = await call('POST', `/chats/${chatId}/shares?user_id=${userId}`, body);
  if (r.status !== 200) throw new Error(`share: ${r.status} ${r.text}`);
  return r.json;
}

/** A user's chat with a question and its answer. */
async function chatWithTwo() {
  const owner = await newUser('sharer');
  const chat = await newChat(owner.user_id);
  await add(chat.chat_id, 'What is 2+2?');
  await add(chat.chat_id, '4', 'ai');
  return { owner, chat };
}

const contents = (r: { json: { messages: { content: string }[] } }) => r.json.messages.map((m) => m.content);

describe('share links over REST', () => {
  it('makes a link whose public page shows the snapshot and nothing of the owner', async () => {
    const { owner, chat } = await chatWithTwo();
    const created = await call('POST', `/chats/${chat.chat_id}/shares?user_id=${owner.user_id}`, {});
    expect(created.status).toBe(200);
    expect(Object.keys(created.json)).toEqual(['share_id', 'token', 'url', 'created_at', 'expires_at']);
    const link: Share = created.json;
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.expires_at).toBeNull();
    expect(isoUtc(link.created_at)).toBe(true);
    // Without PUBLIC_URL, the request's own origin (this test's socket).
    expect(link.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/shared/${link.token}$`));

    const read = await call('GET', `/shared/${link.token}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(read.json)).toEqual(['title', 'shared_at', 'messages']);
    expect(read.json).toMatchObject({ title: chat.title, shared_at: link.created_at });
    expect(read.json.messages.map((m: object) => Object.keys(m))).toEqual([
      ['sender', 'content', 'timestamp'],
      ['sender', 'content', 'timestamp'],
    ]);
    expect(read.json.messages.map((m: { sender: string; content: string }) => [m.sender, m.content])).toEqual([
      ['user', 'What is 2+2?'],
      ['ai', '4'],
    ]);
    expect(read.text).not.toContain(owner.email);
    expect(read.text).not.toMatch(/user_id|chat_id|email/);
    // The same through Yoga (the Node fast path is not taken by browsers).
    const viaYoga = await callFetch('GET', `/shared/${link.token}`);
    expect([viaYoga.status, viaYoga.headers.get('cache-control'), viaYoga.json]).toEqual([200, 'no-store', read.json]);
  });

  it('keeps the snapshot: later messages, renames and streamed answers are not in it', async () => {
    const { owner, chat } = await chatWithTwo();
    await add(chat.chat_id, '', 'ai', { streaming: true });
    const link = await share(chat.chat_id, owner.user_id);
    await add(chat.chat_id, 'A message after sharing');
    await call('PUT', `/chats/${chat.chat_id}`, { title: 'Renamed later' });
    const read = await call('GET', `/shared/${link.token}`);
    expect(contents(read)).toEqual(['What is 2+2?', '4']);
    expect(read.json.title).toBe(chat.title);
    // A new link sees the chat as it is now.
    const later = await call('GET', `/shared/${(await share(chat.chat_id, owner.user_id)).token}`);
    expect(later.json.title).toBe('Renamed later');
    expect(contents(later)).toEqual(['What is 2+2?', '4', 'A message after sharing']);
  });

  it('shares only the active branch of a branched chat', async () => {
    const owner = await newUser('sharer');
    const chat = await newChat(owner.user_id);
    const first = await add(chat.chat_id, 'one');
    await add(chat.chat_id, 'two', 'ai');
    await add(chat.chat_id, 'three', 'user', { parent_id: first.message_id });
    const read = await call('GET', `/shared/${(await share(chat.chat_id, owner.user_id)).token}`);
    expect(contents(read)).toEqual(['one', 'three']);
  });

  it('lists a chat’s links newest first, and revokes one (then its page is 404)', async () => {
    const { owner, chat } = await chatWithTwo();
    const older = await share(chat.chat_id, owner.user_id, { expires_in_days: 7 });
    const newer = await share(chat.chat_id, owner.user_id);
    const days = (Date.parse(older.expires_at as string) - Date.parse(older.created_at)) / 86_400_000;
    expect(days).toBe(7);
    const list = await call('GET', `/chats/${chat.chat_id}/shares?user_id=${owner.user_id}`);
    expect(list.status).toBe(200);
    expect(list.json).toEqual([newer, older]);

    const revoked = await call('DELETE', `/chats/${chat.chat_id}/shares/${older.share_id}?user_id=${owner.user_id}`);
    expect([revoked.status, revoked.json]).toEqual([200, { message: `Share link ${older.share_id} revoked` }]);
    expect(await db().chatShare.findUnique({ where: { share_id: older.share_id } })).toBeNull();
    const gone = await call('GET', `/shared/${older.token}`);
    expect([gone.status, gone.json]).toEqual([404, { detail: 'Share link not found' }]);
    expect((await call('GET', `/chats/${chat.chat_id}/shares?user_id=${owner.user_id}`)).json).toEqual([newer]);
    const again = await call('DELETE', `/chats/${chat.chat_id}/shares/${older.share_id}?user_id=${owner.user_id}`);
    expect(again.status).toBe(404);
  });

  it('answers a revoked, an expired, a deleted chat’s and an unknown link alike: 404, same detail', async () => {
    const { owner, chat } = await chatWithTwo();
    const revoked = await share(chat.chat_id, owner.user_id);
    await call('DELETE', `/chats/${chat.chat_id}/shares/${revoked.share_id}?user_id=${owner.user_id}`);
    const expired = await share(chat.chat_id, owner.user_id, { expires_in_days: 1 });
    expect((await call('GET', `/shared/${expired.token}`)).status).toBe(200);
    await db().chatShare.update({
      where: { share_id: expired.share_id },
      data: { expires_at: new Date(Date.now() - 1000) },
    });
    const other = await chatWithTwo();
    const deleted = await share(other.chat.chat_id, other.owner.user_id);
    expect((await call('DELETE', `/chats/${other.chat.chat_id}?user_id=${other.owner.user_id}`)).status).toBe(200);
    expect(await db().chatShare.findUnique({ where: { share_id: deleted.share_id } })).toBeNull();

    const unknown = 'A'.repeat(43);
    for (const token of [revoked.token, expired.token, deleted.token, unknown]) {
      const r = await call('GET', `/shared/${token}`);
      expect([r.status, r.json]).toEqual([404, { detail: 'Share link not found' }]);
      const g = await gql('query($t: String!) { shared_chat(token: $t) { title } }', { t: token });
      expect([g.json.errors[0].extensions.code, g.json.errors[0].message]).toEqual([
        'NOT_FOUND',
        'Share link not found',
      ]);
    }
  });

  it('lets only the chat’s owner make, list and revoke its links: another user gets the chat’s 404', async () => {
    const { owner, chat } = await chatWithTwo();
    const link = await share(chat.chat_id, owner.user_id);
    const stranger = await newUser('stranger');
    const notFound = { detail: `Chat with ID ${chat.chat_id} not found or access denied` };
    const asStranger = [
      await call('POST', `/chats/${chat.chat_id}/shares?user_id=${stranger.user_id}`, {}),
      await call('GET', `/chats/${chat.chat_id}/shares?user_id=${stranger.user_id}`),
      await call('DELETE', `/chats/${chat.chat_id}/shares/${link.share_id}?user_id=${stranger.user_id}`),
    ];
    expect(asStranger.map((r) => [r.status, r.json])).toEqual([
      [404, notFound],
      [404, notFound],
      [404, notFound],
    ]);
    // A link of another chat, even one of the owner's own, is not found under this one.
    const second = await newChat(owner.user_id);
    const r = await call('DELETE', `/chats/${second.chat_id}/shares/${link.share_id}?user_id=${owner.user_id}`);
    expect(r.status).toBe(404);
    expect((await db().chatShare.count({ where: { chat_id: chat.chat_id } })) > 0).toBe(true);
    expect((await call('POST', '/chats/999999999/shares', {})).status).toBe(404);
  });

  it('refuses bad input with 422 and changes nothing', async () => {
    const { owner, chat } = await chatWithTwo();
    const path = `/chats/${chat.chat_id}/shares?user_id=${owner.user_id}`;
    for (const body of [
      { expires_in_days: 0 },
      { expires_in_days: 366 },
      { expires_in_days: '7' },
      { expires_in_days: 1.5 },
    ]) {
      const r = await call('POST', path, body);
      expect([JSON.stringify(body), r.status, typeof r.json?.detail]).toEqual([JSON.stringify(body), 422, 'string']);
    }
    for (const token of ['short', 'A'.repeat(44), `${'A'.repeat(42)}=`, `${'A'.repeat(42)}.`]) {
      const r = await call('GET', `/shared/${encodeURIComponent(token)}`);
      expect([token, r.status, typeof r.json?.detail]).toEqual([token, 422, 'string']);
    }
    expect(await db().chatShare.count({ where: { chat_id: chat.chat_id } })).toBe(0);
    expect((await call('DELETE', `/chats/${chat.chat_id}/shares/abc?user_id=${owner.user_id}`)).status).toBe(422);
  });
});

describe('share links over GraphQL', () => {
  it('create_share, chat_shares, shared_chat and revoke_share', async () => {
    const { owner, chat } = await chatWithTwo();
    const vars = { c: chat.chat_id, u: owner.user_id };
    const created = await gql(
      'mutation($c: Int!, $u: Int) { create_share(chat_id: $c, user_id: $u, expires_in_days: 30) { share_id chat_id token url expires_at } }',
      vars,
    );
    const link = created.json.data.create_share;
    expect(link.chat_id).toBe(chat.chat_id);
    const list = await gql('query($c: Int!, $u: Int) { chat_shares(chat_id: $c, user_id: $u) { share_id } }', vars);
    expect(list.json.data.chat_shares).toEqual([{ share_id: link.share_id }]);
    const read = await gql('query($t: String!) { shared_chat(token: $t) { title messages { sender content } } }', {
      t: link.token,
    });
    expect(read.json.data.shared_chat).toEqual({
      title: chat.title,
      messages: [
        { sender: 'user', content: 'What is 2+2?' },
        { sender: 'ai', content: '4' },
      ],
    });
    const revoked = await gql(
      'mutation($c: Int!, $s: Int!, $u: Int) { revoke_share(chat_id: $c, share_id: $s, user_id: $u) { message } }',
      { ...vars, s: link.share_id },
    );
    expect(revoked.json.data.revoke_share.message).toBe(`Share link ${link.share_id} revoked`);
  });

  it('bad input is an error with BAD_USER_INPUT, and nothing is made', async () => {
    const { owner, chat } = await chatWithTwo();
    for (const days of [0, 366]) {
      const g = await gql(
        'mutation($c: Int!, $u: Int, $d: Int) { create_share(chat_id: $c, user_id: $u, expires_in_days: $d) { share_id } }',
        {
          c: chat.chat_id,
          u: owner.user_id,
          d: days,
        },
      );
      expect(g.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    const g = await gql('{ shared_chat(token: "not-a-token") { title } }');
    expect(g.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await db().chatShare.count({ where: { chat_id: chat.chat_id } })).toBe(0);
  });
});

describe('chat_changed', () => {
  it('tells the owner’s subscribers SHARED and UNSHARED', async () => {
    const server = await listen();
    try {
      const { owner, chat } = await chatWithTwo();
      const sub = await subscribe(
        server.base,
        'subscription($u: Int!) { chat_changed(user_id: $u) { chat_id kind } }',
        {
          u: owner.user_id,
        },
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const link = await share(chat.chat_id, owner.user_id);
        expect((await sub.next()).data.chat_changed).toEqual({ chat_id: chat.chat_id, kind: 'SHARED' });
        await call('DELETE', `/chats/${chat.chat_id}/shares/${link.share_id}?user_id=${owner.user_id}`);
        expect((await sub.next()).data.chat_changed).toEqual({ chat_id: chat.chat_id, kind: 'UNSHARED' });
      } finally {
        sub.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('the token in logs', () => {
  it('is left out of the request log: the path reads /shared/[token]', async () => {
    const gateway = await startGateway();
    try {
      const user = await http(gateway.url, 'POST', '/chats/users', { username: 'logged', email: 'logged@example.com' });
      const chat = await http(gateway.url, 'POST', '/chats/', { user_id: user.json.user_id });
      await http(gateway.url, 'POST', `/chats/${chat.json.chat_id}/messages`, { content: 'hi', sender: 'user' });
      const link = await http(
        gateway.url,
        'POST',
        `/chats/${chat.json.chat_id}/shares?user_id=${user.json.user_id}`,
        {},
      );
      expect(link.status).toBe(200);
      expect((await http(gateway.url, 'GET', `/shared/${link.json.token}`)).status).toBe(200);
      const token = link.json.token as string;
      const deadline = Date.now() + 5000;
      while (!gateway.output().includes('/shared/[token]') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(gateway.output()).toContain('/shared/[token]');
      expect(gateway.output()).not.toContain(token);
    } finally {
      await stopGateway(gateway);
    }
  });
});
