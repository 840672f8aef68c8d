import { addMessage, call, gql, newChat, newUser, unique } from '../../support/http';

const search = async (query: string, extra = '') => {
  const r = await call('GET', `/chats/search/?query=${encodeURIComponent(query)}${extra}`);
  expect(r.status).toBe(200);
  return r.json as { chat_id: number; title: string; matches: { message_id: number; snippet: string }[] }[];
};

describe('GET /chats/search/ and search_chats', () => {
  it('finds chats by message content and by title, newest first, with up to 3 snippets', async () => {
    const word = unique('quasar').replace(/\W/g, '');
    const u = await newUser();
    const older = await newChat(u.user_id);
    for (let i = 0; i < 5; i++) await addMessage(older.chat_id, `message ${i} about ${word} growth`);
    const newer = await newChat(u.user_id);
    await call('PUT', `/chats/${newer.chat_id}`, { title: `All about ${word}` });
    const hits = await search(word);
    expect(hits.map((h) => h.chat_id)).toEqual([newer.chat_id, older.chat_id]);
    expect(Object.keys(hits[0] ?? {}).sort()).toEqual(['chat_id', 'created_at', 'matches', 'title', 'user_id']);
    expect(hits[0]?.matches).toEqual([]);
    expect(hits[1]?.matches).toHaveLength(3);
    expect(hits[1]?.matches[0]?.snippet).toContain(`**${word}**`);
    expect((await search(word, '&limit=1&offset=1')).map((h) => h.chat_id)).toEqual([older.chat_id]);
  });

  it('answers without the trailing slash too (not as /chats/{chat_id})', async () => {
    const r = await call('GET', '/chats/search?query=anything');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.json)).toBe(true);
  });

  it('keeps the index in step with adds, renames, appends and deletes', async () => {
    const a = unique('alpha').replace(/\W/g, '');
    const b = unique('bravo').replace(/\W/g, '');
    const c = await newChat();
    expect(await search(a)).toEqual([]);
    await addMessage(c.chat_id, `first mention of ${a}`);
    expect((await search(a)).map((h) => h.chat_id)).toEqual([c.chat_id]);
    await call('PUT', `/chats/${c.chat_id}`, { title: `Renamed ${b}` });
    expect((await search(b)).map((h) => h.chat_id)).toEqual([c.chat_id]);
    const streamed = await call('POST', `/chats/${c.chat_id}/messages`, { content: '', sender: 'ai', streaming: true });
    const z = unique('zulu').replace(/\W/g, '');
    await gql(
      'mutation($m: Int!, $d: String!) { append_to_message(message_id: $m, delta: $d, complete: true) { is_complete } }',
      {
        m: streamed.json.message_id,
        d: `answer with ${z}`,
      },
    );
    expect((await search(z)).map((h) => h.chat_id)).toEqual([c.chat_id]);
    await call('DELETE', `/chats/${c.chat_id}`);
    expect(await search(a)).toEqual([]);
    expect(await search(b)).toEqual([]);
    expect(await search(z)).toEqual([]);
  });

  it('filters by user_id and treats the query as words, never as search syntax', async () => {
    const word = unique('kilo').replace(/\W/g, '');
    const u = await newUser();
    const mine = await newChat(u.user_id);
    const other = await newChat();
    await addMessage(mine.chat_id, `${word} mine`);
    await addMessage(other.chat_id, `${word} not mine`);
    expect((await search(word, `&user_id=${u.user_id}`)).map((h) => h.chat_id)).toEqual([mine.chat_id]);
    expect((await search(`${word} NOT mine`)).length).toBeGreaterThan(0);
    for (const hostile of ['")(', 'OR AND NEAR(', '* ^ -', '\'; DROP TABLE "Chat"; --']) {
      const r = await call('GET', `/chats/search/?query=${encodeURIComponent(hostile)}`);
      expect([hostile, r.status]).toEqual([hostile, hostile.match(/[\p{L}\p{N}]/u) ? 200 : 422]);
    }
  });

  it('is the same over GraphQL', async () => {
    const word = unique('lima').replace(/\W/g, '');
    const c = await newChat();
    await addMessage(c.chat_id, `${word} here`);
    const g = await gql('query($q: String!) { search_chats(query: $q) { chat_id matches { snippet } } }', { q: word });
    expect(g.json.data.search_chats).toEqual([{ chat_id: c.chat_id, matches: [{ snippet: `**${word}** here` }] }]);
  });
});
