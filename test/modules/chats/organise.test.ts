import { addMessage, call, gql, keysOf, newChat, newUser, unique } from '../../support/http';

async function folder(user_id: number, name: string): Promise<number> {
  const r = await call('POST', '/folders', { user_id, name });
  if (r.status !== 200) throw new Error(`create folder: ${r.status} ${r.text}`);
  return r.json.folder_id;
}

const organisation = async (chat_id: number) =>
  (await gql('query($c: Int!) { chat(chat_id: $c) { folder_id pinned archived tags } }', { c: chat_id })).json.data
    .chat;

const listed = async (query: string) =>
  ((await call('GET', `/chats/${query}`)).json as { chat_id: number }[]).map((c) => c.chat_id);

describe('organising a chat through PUT /chats/{chat_id}', () => {
  it('files, tags, pins and archives, answering the documented four keys', async () => {
    const u = await newUser();
    const chat = await newChat(u.user_id);
    const work = await folder(u.user_id, 'Work');
    const r = await call('PUT', `/chats/${chat.chat_id}`, {
      folder_id: work,
      tags: ['Sales', 'q1', 'sales ', 'EMEA'],
      pinned: true,
    });
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(['chat_id', 'created_at', 'title', 'user_id']);
    expect(await organisation(chat.chat_id)).toEqual({
      folder_id: work,
      pinned: true,
      archived: false,
      tags: ['emea', 'q1', 'sales'],
    });
    // Absent fields stay; folder_id null takes it out of its folder; tags replace.
    await call('PUT', `/chats/${chat.chat_id}`, { title: 'Renamed' });
    expect((await organisation(chat.chat_id)).folder_id).toBe(work);
    await call('PUT', `/chats/${chat.chat_id}`, { folder_id: null, tags: [], archived: true });
    expect(await organisation(chat.chat_id)).toEqual({ folder_id: null, pinned: true, archived: true, tags: [] });
  });

  it('refuses bad organisation with 422 and changes nothing', async () => {
    const u = await newUser();
    const other = await newUser();
    const chat = await newChat(u.user_id);
    const anonymous = await newChat();
    const theirs = await folder(other.user_id, 'Theirs');
    const mine = await folder(u.user_id, 'Mine');
    await call('PUT', `/chats/${chat.chat_id}`, { folder_id: mine, tags: ['keep'] });
    const cases: [number, unknown, RegExp][] = [
      [chat.chat_id, { folder_id: theirs }, /folder_id: folder \d+ not found/],
      [chat.chat_id, { folder_id: 999999999 }, /folder_id: folder 999999999 not found/],
      [anonymous.chat_id, { folder_id: mine }, /anonymous chat/],
      [chat.chat_id, { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, /at most 20 tags/],
      [chat.chat_id, { tags: ['x'.repeat(33)] }, /at most 32 characters/],
      [chat.chat_id, { tags: [''] }, /must not be empty/],
      [chat.chat_id, { tags: ['a,b'] }, /comma/],
      [chat.chat_id, { pinned: 'yes' }, /pinned/],
    ];
    for (const [id, body, detail] of cases) {
      const r = await call('PUT', `/chats/${id}`, body);
      expect([JSON.stringify(body).slice(0, 60), r.status]).toEqual([JSON.stringify(body).slice(0, 60), 422]);
      expect(r.json.detail).toMatch(detail);
    }
    expect(await organisation(chat.chat_id)).toEqual({
      folder_id: mine,
      pinned: false,
      archived: false,
      tags: ['keep'],
    });
  });

  it('records when the chat itself last changed (updated_at), which retention counts from', async () => {
    const chat = await newChat();
    const changed = async () =>
      (await gql('query($c: Int!) { chat(chat_id: $c) { updated_at } }', { c: chat.chat_id })).json.data.chat
        .updated_at;
    expect(await changed()).toBeNull();
    const before = Date.now();
    await call('PUT', `/chats/${chat.chat_id}`, { pinned: true });
    const at = Date.parse(await changed());
    expect(at).toBeGreaterThanOrEqual(before - 5);
    // A request that changes nothing is not a change.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await call('PUT', `/chats/${chat.chat_id}`, {});
    expect(Date.parse(await changed())).toBe(at);
  });

  it('a chat given to another user leaves its folder', async () => {
    const u = await newUser();
    const other = await newUser();
    const chat = await newChat(u.user_id);
    await call('PUT', `/chats/${chat.chat_id}`, { folder_id: await folder(u.user_id, 'Old') });
    const r = await call('PUT', `/chats/${chat.chat_id}`, { user_id: other.user_id });
    expect(r.status).toBe(200);
    expect((await organisation(chat.chat_id)).folder_id).toBeNull();
  });
});

describe('GET /chats/ filters', () => {
  it('leaves archived chats out unless asked, and filters by folder, tags and pin', async () => {
    const u = await newUser();
    const [a, b, c, d] = [
      await newChat(u.user_id),
      await newChat(u.user_id),
      await newChat(u.user_id),
      await newChat(u.user_id),
    ];
    const f = await folder(u.user_id, 'Reports');
    await call('PUT', `/chats/${a?.chat_id}`, { folder_id: f, tags: ['sales', 'q1'] });
    await call('PUT', `/chats/${b?.chat_id}`, { tags: ['sales'], pinned: true });
    await call('PUT', `/chats/${c?.chat_id}`, { archived: true, tags: ['sales', 'q1'] });
    const base = `?user_id=${u.user_id}&limit=100`;
    // Newest first, as always; the archived one left out.
    expect(await listed(base)).toEqual([d?.chat_id, b?.chat_id, a?.chat_id]);
    expect(await listed(`${base}&archived=true`)).toEqual([c?.chat_id]);
    expect(await listed(`${base}&folder_id=${f}`)).toEqual([a?.chat_id]);
    expect(await listed(`${base}&tag=sales`)).toEqual([b?.chat_id, a?.chat_id]);
    expect(await listed(`${base}&tag=SALES&tag=q1`)).toEqual([a?.chat_id]);
    expect(await listed(`${base}&tag=sales,q1&archived=true`)).toEqual([c?.chat_id]);
    expect(await listed(`${base}&pinned=true`)).toEqual([b?.chat_id]);
    expect(await listed(`${base}&pinned=false`)).toEqual([d?.chat_id, a?.chat_id]);
    expect((await call('GET', `/chats/${base}&pinned=maybe`)).status).toBe(422);
    // A tag that no stored tag could be is bad input, on both databases (PostgreSQL refuses a NUL).
    for (const bad of ['%00', `${'x'.repeat(33)}`, '%20']) {
      const r = await call('GET', `/chats/${base}&tag=${bad}`);
      expect([bad, r.status]).toEqual([bad, 422]);
      expect(r.json.detail).toMatch(/^tag: /);
    }
    // The same over GraphQL.
    const g = await gql('query($u: Int, $t: [String!]) { chats(user_id: $u, tag: $t, limit: 100) { chat_id tags } }', {
      u: u.user_id,
      t: ['q1'],
    });
    expect(g.json.data.chats).toEqual([{ chat_id: a?.chat_id, tags: ['q1', 'sales'] }]);
  });
});

describe('GET /chats/search/ filters', () => {
  it('takes the list’s filters: archived left out unless asked, folder, tags and pin', async () => {
    const word = unique('nebula').replace(/\W/g, '');
    const u = await newUser();
    const [a, b, c] = [await newChat(u.user_id), await newChat(u.user_id), await newChat(u.user_id)];
    for (const chat of [a, b, c]) await addMessage(chat.chat_id, `notes on ${word}`);
    const f = await folder(u.user_id, 'Research');
    await call('PUT', `/chats/${a.chat_id}`, { folder_id: f, tags: ['Space'] });
    await call('PUT', `/chats/${b.chat_id}`, { pinned: true, tags: ['space', 'draft'] });
    await call('PUT', `/chats/${c.chat_id}`, { archived: true, tags: ['space'] });
    const found = async (extra: string) => {
      const r = await call('GET', `/chats/search/?query=${word}&user_id=${u.user_id}${extra}`);
      expect(r.status).toBe(200);
      return (r.json as { chat_id: number }[]).map((h) => h.chat_id);
    };
    expect(await found('')).toEqual([b.chat_id, a.chat_id]);
    expect(await found('&archived=true')).toEqual([c.chat_id]);
    expect(await found(`&folder_id=${f}`)).toEqual([a.chat_id]);
    expect(await found('&tag=space')).toEqual([b.chat_id, a.chat_id]);
    expect(await found('&tag=SPACE&tag=draft')).toEqual([b.chat_id]);
    expect(await found('&tag=space,draft')).toEqual([b.chat_id]);
    expect(await found('&pinned=true')).toEqual([b.chat_id]);
    expect(await found('&pinned=false')).toEqual([a.chat_id]);
    expect(await found('&tag=nothing')).toEqual([]);
    for (const bad of ['&tag=%00', `&tag=${'x'.repeat(33)}`, '&archived=perhaps', '&folder_id=x']) {
      const r = await call('GET', `/chats/search/?query=${word}${bad}`);
      expect([bad, r.status]).toEqual([bad, 422]);
    }
    const g = await gql(
      'query($q: String!, $u: Int) { search_chats(query: $q, user_id: $u, archived: true) { chat_id } }',
      {
        q: word,
        u: u.user_id,
      },
    );
    expect(g.json.data.search_chats).toEqual([{ chat_id: c.chat_id }]);
  });
});
