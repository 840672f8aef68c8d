import { db } from '../../support/gateway';
import { call, gql, newChat, newUser } from '../../support/http';

type Folder = { folder_id: number; user_id: number; name: string; parent_id: number | null; created_at: string };

async function folder(user_id: number, name: string, parent_id?: number | null): Promise<Folder> {
  const r = await call('POST', '/folders', { user_id, name, ...(parent_id === undefined ? {} : { parent_id }) });
  if (r.status !== 200) throw new Error(`create folder: ${r.status} ${r.text}`);
  return r.json;
}

const folderIds = async (user_id: number) =>
  ((await call('GET', `/folders?user_id=${user_id}`)).json as Folder[]).map((f) => [f.folder_id, f.parent_id]);

describe('folders over REST', () => {
  it('creates, lists, renames, moves and deletes folders with the documented keys', async () => {
    const u = await newUser();
    const work = await folder(u.user_id, '  Work  ');
    expect(Object.keys(work)).toEqual(['folder_id', 'user_id', 'name', 'parent_id', 'created_at']);
    expect(work).toMatchObject({ user_id: u.user_id, name: 'Work', parent_id: null });
    const q1 = await folder(u.user_id, 'Q1 reports', work.folder_id);
    expect(q1.parent_id).toBe(work.folder_id);

    const list = await call('GET', `/folders?user_id=${u.user_id}`);
    expect(list.status).toBe(200);
    expect(list.json).toEqual([work, q1]);

    const renamed = await call('PUT', `/folders/${q1.folder_id}?user_id=${u.user_id}`, { name: 'Q1' });
    expect(renamed.json).toMatchObject({ name: 'Q1', parent_id: work.folder_id });
    // null moves it to the top level; absent leaves it where it is.
    const top = await call('PUT', `/folders/${q1.folder_id}?user_id=${u.user_id}`, { parent_id: null });
    expect(top.json).toMatchObject({ name: 'Q1', parent_id: null });
    const back = await call('PUT', `/folders/${q1.folder_id}?user_id=${u.user_id}`, { parent_id: work.folder_id });
    expect(back.json.parent_id).toBe(work.folder_id);
    const same = await call('PUT', `/folders/${q1.folder_id}?user_id=${u.user_id}`, { name: 'First quarter' });
    expect(same.json.parent_id).toBe(work.folder_id);
  });

  it('deleting a folder moves its chats out and its sub-folders up, and deletes no chat', async () => {
    const u = await newUser();
    const a = await folder(u.user_id, 'A');
    const b = await folder(u.user_id, 'B', a.folder_id);
    const c = await folder(u.user_id, 'C', b.folder_id);
    const chats = [await newChat(u.user_id), await newChat(u.user_id)];
    await db().chat.updateMany({
      where: { chat_id: { in: chats.map((x) => x.chat_id) } },
      data: { folder_id: b.folder_id },
    });

    const r = await call('DELETE', `/folders/${b.folder_id}?user_id=${u.user_id}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ message: `Folder ${b.folder_id} deleted`, moved_chats: 2 });
    expect(await folderIds(u.user_id)).toEqual([
      [a.folder_id, null],
      [c.folder_id, a.folder_id],
    ]);
    for (const chat of chats) {
      const read = await call('GET', `/chats/${chat.chat_id}`);
      expect(read.status).toBe(200);
    }
    expect(await db().chat.count({ where: { chat_id: { in: chats.map((x) => x.chat_id) }, folder_id: null } })).toBe(2);
    expect((await call('DELETE', `/folders/${b.folder_id}?user_id=${u.user_id}`)).status).toBe(404);
  });

  it('refuses cycles, nesting deeper than 8, unknown parents and bad names with 422, changing nothing', async () => {
    const u = await newUser();
    const chain: Folder[] = [await folder(u.user_id, 'level 1')];
    for (let level = 2; level <= 8; level++) {
      chain.push(await folder(u.user_id, `level ${level}`, chain[chain.length - 1]?.folder_id));
    }
    const [first, second] = chain as [Folder, Folder];
    const last = chain[7] as Folder;
    const before = await folderIds(u.user_id);
    const refusals: [string, string, unknown, RegExp][] = [
      ['POST', '/folders', { user_id: u.user_id, name: 'level 9', parent_id: last.folder_id }, /at most 8 deep/],
      ['PUT', `/folders/${first.folder_id}?user_id=${u.user_id}`, { parent_id: last.folder_id }, /into itself/],
      ['PUT', `/folders/${first.folder_id}?user_id=${u.user_id}`, { parent_id: first.folder_id }, /into itself/],
      ['PUT', `/folders/${second.folder_id}?user_id=${u.user_id}`, { parent_id: 999999999 }, /not found/],
      ['POST', '/folders', { user_id: u.user_id, name: '' }, /name/],
      ['POST', '/folders', { user_id: u.user_id, name: 'x'.repeat(101) }, /at most 100/],
      ['POST', '/folders', { name: 'no owner' }, /user_id: is required/],
      ['POST', '/folders', { user_id: 999999999, name: 'nobody' }, /not found/],
    ];
    // A side branch of depth 2 cannot go under level 7 (it would reach 9).
    const side = await folder(u.user_id, 'side');
    await folder(u.user_id, 'side child', side.folder_id);
    refusals.push([
      'PUT',
      `/folders/${side.folder_id}?user_id=${u.user_id}`,
      { parent_id: chain[6]?.folder_id },
      /at most 8 deep/,
    ]);
    const settled = await folderIds(u.user_id);
    for (const [method, path, body, detail] of refusals) {
      const r = await call(method, path, body);
      expect([path, r.status]).toEqual([path, 422]);
      expect(r.json.detail).toMatch(detail);
    }
    expect(await folderIds(u.user_id)).toEqual(settled);
    expect(settled.slice(0, before.length)).toEqual(before);
  });

  it('answers another user’s folder like one that does not exist', async () => {
    const owner = await newUser();
    const other = await newUser();
    const f = await folder(owner.user_id, 'Private');
    const mine = await folder(other.user_id, 'Mine');
    for (const [method, path, body] of [
      ['PUT', `/folders/${f.folder_id}?user_id=${other.user_id}`, { name: 'taken' }],
      ['DELETE', `/folders/${f.folder_id}?user_id=${other.user_id}`, undefined],
    ] as const) {
      const r = await call(method, path, body);
      expect([method, r.status]).toEqual([method, 404]);
      expect(r.json.detail).toBe(`Folder with ID ${f.folder_id} not found or access denied`);
    }
    // Nor can a folder go under another user's folder.
    const r = await call('PUT', `/folders/${mine.folder_id}?user_id=${other.user_id}`, { parent_id: f.folder_id });
    expect(r.status).toBe(422);
    expect((await call('GET', `/folders?user_id=${other.user_id}`)).json.map((x: Folder) => x.folder_id)).toEqual([
      mine.folder_id,
    ]);
    expect((await call('GET', `/folders?user_id=${owner.user_id}`)).json[0].name).toBe('Private');
  });
});

describe('folders over GraphQL', () => {
  it('the same operations, with parent_id null moving to the top', async () => {
    const u = await newUser();
    const created = await gql(
      'mutation($u: Int!) { create_folder(user_id: $u, name: "Sales") { folder_id parent_id } }',
      {
        u: u.user_id,
      },
    );
    const parent = created.json.data.create_folder.folder_id;
    const child = await gql(
      'mutation($u: Int!, $p: Int) { create_folder(user_id: $u, name: "EMEA", parent_id: $p) { folder_id parent_id } }',
      { u: u.user_id, p: parent },
    );
    const id = child.json.data.create_folder.folder_id;
    const moved = await gql('mutation($id: Int!) { update_folder(folder_id: $id, parent_id: null) { parent_id } }', {
      id,
    });
    expect(moved.json.data.update_folder.parent_id).toBeNull();
    // The child moved out, so the old parent may now go under it: no cycle.
    const nested = await gql(
      'mutation($id: Int, $p: Int!) { update_folder(folder_id: $p, parent_id: $id) { parent_id } }',
      {
        id,
        p: parent,
      },
    );
    expect(nested.json.errors).toBeUndefined();
    expect(nested.json.data.update_folder.parent_id).toBe(id);
    const listed = await gql('query($u: Int) { folders(user_id: $u) { folder_id parent_id } }', { u: u.user_id });
    expect(listed.json.data.folders).toEqual([
      { folder_id: parent, parent_id: id },
      { folder_id: id, parent_id: null },
    ]);
    const bad = await gql('mutation($p: Int!) { update_folder(folder_id: $p, parent_id: $p) { parent_id } }', {
      p: parent,
    });
    expect(bad.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});
