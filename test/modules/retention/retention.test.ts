import { createGateway } from '../../../src/app';
import { configureGateway, db, gateway, testConfig } from '../../support/gateway';
import { http, startGateway, stopGateway } from '../../support/gateway-process';
import { addMessage, call, gql, keysOf, listen, newChat, newUser } from '../../support/http';
import { subscribe } from '../../support/sse';

// A global policy of 30 days; sweeps run when a test calls them, not on a timer.
const RETENTION = { RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL_SECONDS: '0' };
configureGateway(RETENTION);

const ADMIN = { 'x-admin-api-key': 'test-admin-key' };
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

/** Makes a chat look as if its activity happened `days` ago (the test's arrangement, in the database). */
async function age(
  chat_id: number,
  times: { created?: number; message?: number | null; changed?: number | null },
): Promise<void> {
  await db().chat.update({
    where: { chat_id },
    data: {
      ...(times.created === undefined ? {} : { created_at: daysAgo(times.created) }),
      ...(times.message === undefined
        ? {}
        : { last_message_at: times.message === null ? null : daysAgo(times.message) }),
      ...(times.changed === undefined ? {} : { updated_at: times.changed === null ? null : daysAgo(times.changed) }),
    },
  });
  // Its messages were written then too.
  if (typeof times.message === 'number') {
    await db().message.updateMany({ where: { chat_id }, data: { timestamp: daysAgo(times.message) } });
  }
}

type Candidate = { chat_id: number; user_id: number | null; title: string; retention_days: number };

async function preview(limit = 1000): Promise<{ total: number; chats: Candidate[] }> {
  const r = await call('POST', '/admin/retention/preview', { limit }, ADMIN);
  expect(r.status).toBe(200);
  return r.json;
}

const exists = async (chat_id: number) => (await call('GET', `/chats/${chat_id}`)).status === 200;

describe('PUT and GET /users/{user_id}/retention', () => {
  it('sets a user’s own policy, and null follows the global one', async () => {
    const u = await newUser();
    const initial = await call('GET', `/users/${u.user_id}/retention`);
    expect([initial.status, initial.json]).toEqual([200, { user_id: u.user_id, days: null, effective_days: 30 }]);
    const set = await call('PUT', `/users/${u.user_id}/retention`, { days: 7 });
    expect([set.status, set.json]).toEqual([200, { user_id: u.user_id, days: 7, effective_days: 7 }]);
    expect((await call('GET', `/users/${u.user_id}/retention`)).json.days).toBe(7);
    const cleared = await call('PUT', `/users/${u.user_id}/retention`, { days: null });
    expect(cleared.json).toEqual({ user_id: u.user_id, days: null, effective_days: 30 });
    // The same over GraphQL.
    const g = await gql(
      'mutation($u: Int!) { set_user_retention(user_id: $u, days: 90) { user_id days effective_days } }',
      { u: u.user_id },
    );
    expect(g.json.data.set_user_retention).toEqual({ user_id: u.user_id, days: 90, effective_days: 90 });
  });

  it('refuses bad input with 422 and changes nothing; an unknown user is 404', async () => {
    const u = await newUser();
    await call('PUT', `/users/${u.user_id}/retention`, { days: 7 });
    const bad: [unknown, RegExp][] = [
      [{ days: 0 }, /days: must be at least 1/],
      [{ days: 36_501 }, /days: must be at most 36500/],
      [{ days: 1.5 }, /days/],
      [{ days: '7' }, /days/],
      [{}, /days: required/],
    ];
    for (const [body, detail] of bad) {
      const r = await call('PUT', `/users/${u.user_id}/retention`, body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), 422]);
      expect(r.json.detail).toMatch(detail);
    }
    expect((await call('GET', `/users/${u.user_id}/retention`)).json.days).toBe(7);
    expect((await call('PUT', '/users/999999999/retention', { days: 7 })).status).toBe(404);
    expect((await call('GET', '/users/999999999/retention')).status).toBe(404);
    expect((await call('GET', '/users/abc/retention')).status).toBe(422);
  });
});

describe('POST /admin/retention/preview and the sweep', () => {
  it('deletes the inactive, unpinned chats of each policy, keeps their usage, and tells subscribers', async () => {
    const server = await listen();
    const global = await newUser(); // follows the global 30 days
    const patient = await newUser(); // keeps a year
    const strict = await newUser(); // keeps a week
    await call('PUT', `/users/${patient.user_id}/retention`, { days: 365 });
    await call('PUT', `/users/${strict.user_id}/retention`, { days: 7 });

    const chat = async (user_id?: number) => (await newChat(user_id)).chat_id;
    const expired = {
      untouched: await chat(global.user_id),
      lastMessageLongAgo: await chat(global.user_id),
      anonymous: await chat(),
      patientsOldest: await chat(patient.user_id),
      strictsWeekOld: await chat(strict.user_id),
    };
    const kept = {
      pinned: await chat(global.user_id),
      recentMessage: await chat(global.user_id),
      recentlyChanged: await chat(global.user_id),
      young: await chat(global.user_id),
      patientsMonthOld: await chat(patient.user_id),
      strictsNew: await chat(strict.user_id),
    };
    await age(expired.untouched, { created: 40 });
    await addMessage(expired.lastMessageLongAgo, 'an old question');
    await age(expired.lastMessageLongAgo, { created: 50, message: 35 });
    await age(expired.anonymous, { created: 31 });
    await age(expired.patientsOldest, { created: 400, message: 370 });
    await age(expired.strictsWeekOld, { created: 8 });
    await call('PUT', `/chats/${kept.pinned}`, { pinned: true });
    await age(kept.pinned, { created: 400, changed: 400 });
    await addMessage(kept.recentMessage, 'still talking');
    await age(kept.recentMessage, { created: 40 });
    // A rename is activity: the policy counts from it.
    await age(kept.recentlyChanged, { created: 40 });
    await call('PUT', `/chats/${kept.recentlyChanged}`, { title: 'Renamed today' });
    await age(kept.young, { created: 29 });
    await age(kept.patientsMonthOld, { created: 40 });
    await age(kept.strictsNew, { created: 6 });
    // Usage recorded against a chat outlives it, as with DELETE /chats/{chat_id}.
    const usage = await call('POST', '/usage', {
      user_id: global.user_id,
      chat_id: expired.untouched,
      model_name: 'gpt-4o',
      prompt_tokens: 100,
      completion_tokens: 10,
    });
    expect(usage.status).toBe(200);

    // Admins only.
    expect((await call('POST', '/admin/retention/preview', {})).status).toBe(403);
    const before = await preview();
    expect(keysOf(before)).toEqual(['chats', 'global_days', 'total']);
    const listed = new Map(before.chats.map((c) => [c.chat_id, c]));
    for (const id of Object.values(expired)) expect([id, listed.has(id)]).toEqual([id, true]);
    for (const id of Object.values(kept)) expect([id, listed.has(id)]).toEqual([id, false]);
    expect(listed.get(expired.patientsOldest)?.retention_days).toBe(365);
    expect(listed.get(expired.strictsWeekOld)?.retention_days).toBe(7);
    expect(listed.get(expired.anonymous)).toMatchObject({ user_id: null, retention_days: 30 });
    expect(keysOf(listed.get(expired.untouched))).toEqual([
      'chat_id',
      'last_activity_at',
      'retention_days',
      'title',
      'user_id',
    ]);
    expect(before.total).toBe(before.chats.length);
    expect((await preview(2)).chats).toHaveLength(2);
    expect((await call('POST', '/admin/retention/preview', { limit: 0 }, ADMIN)).status).toBe(422);

    const sub = await subscribe(server.base, 'subscription($u: Int!) { chat_changed(user_id: $u) { kind chat_id } }', {
      u: strict.user_id,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const result = await gateway().retention.sweep();
      expect(result).toEqual({ ran: true, deleted: before.total });
      expect((await sub.next()).data.chat_changed).toEqual({ kind: 'DELETED', chat_id: expired.strictsWeekOld });
    } finally {
      sub.close();
      await server.close();
    }
    for (const id of Object.values(expired)) expect([id, await exists(id)]).toEqual([id, false]);
    for (const id of Object.values(kept)) expect([id, await exists(id)]).toEqual([id, true]);
    expect((await preview()).total).toBe(0);
    const summary = await gql(
      'query($u: Int) { usage_summary(user_id: $u, group_by: [CHAT]) { rows { chat_id requests } } }',
      { u: global.user_id },
    );
    expect(summary.json.data.usage_summary.rows).toEqual([{ chat_id: null, requests: 1 }]);
  });

  it('runs on one instance at a time: a lease in the database, which passes on once expired', async () => {
    const u = await newUser();
    const old = await newChat(u.user_id);
    await age(old.chat_id, { created: 60 });
    // Another gateway on the same database. (Called one after the other: two SQLite clients in one
    // process cannot wait on each other's locks. The process test below races two processes.)
    const second = await createGateway(testConfig(RETENTION));
    try {
      await db().jobLease.deleteMany({});
      expect(await gateway().retention.sweep()).toEqual({ ran: true, deleted: 1 });
      expect(await exists(old.chat_id)).toBe(false);
      // The lease is the first gateway's until it expires: the second does not sweep meanwhile.
      const again = await newChat(u.user_id);
      await age(again.chat_id, { created: 60 });
      expect(await second.retention.sweep()).toEqual({ ran: false, deleted: 0 });
      expect(await exists(again.chat_id)).toBe(true);
      // Its holder gone (the lease expired), the second takes over, and then holds it.
      await db().jobLease.updateMany({ data: { expires_at: daysAgo(1) } });
      expect(await second.retention.sweep()).toEqual({ ran: true, deleted: 1 });
      expect(await exists(again.chat_id)).toBe(false);
      expect(await gateway().retention.sweep()).toEqual({ ran: false, deleted: 0 });
    } finally {
      await second.close();
    }
  });
});

describe('the sweep’s edge cases', () => {
  it('keeps a chat whose new message is stored but whose last_message_at has not moved yet', async () => {
    // On SQLite add_message inserts the message, then moves last_message_at: a sweep in between
    // sees this state, and must not delete the message it just acknowledged.
    const c = await newChat((await newUser()).user_id);
    await addMessage(c.chat_id, 'a new question');
    await db().chat.update({
      where: { chat_id: c.chat_id },
      data: { created_at: daysAgo(90), last_message_at: daysAgo(90) },
    });
    expect((await preview()).chats.map((x) => x.chat_id)).not.toContain(c.chat_id);
    await gateway().retention.sweep();
    expect(await exists(c.chat_id)).toBe(true);
  });

  it('sweeps many chats in batches, and previews a total beyond its limit', async () => {
    const u = await newUser();
    const old = daysAgo(100);
    await db().chat.createMany({
      data: Array.from({ length: 450 }, () => ({ user_id: u.user_id, created_at: old })),
    });
    const listed = await preview(5);
    expect(listed.chats).toHaveLength(5);
    expect(listed.total).toBeGreaterThanOrEqual(450);
    const result = await gateway().retention.sweep();
    expect(result.ran).toBe(true);
    expect(result.deleted).toBe(listed.total);
    const left = await call('GET', `/chats/?user_id=${u.user_id}&limit=100`);
    expect(left.json).toEqual([]);
  });

  it('with no global policy, only users’ own policies delete, and anonymous chats stay', async () => {
    const keeper = await createGateway(testConfig({ ...RETENTION, RETENTION_DAYS: undefined }));
    try {
      const strict = await newUser();
      await call('PUT', `/users/${strict.user_id}/retention`, { days: 10 });
      const [anonymous, plain, strictOld] = [
        await newChat(),
        await newChat((await newUser()).user_id),
        await newChat(strict.user_id),
      ];
      for (const c of [anonymous, plain, strictOld]) await age(c.chat_id, { created: 400 });
      await db().jobLease.deleteMany({});
      expect((await keeper.retention.sweep()).ran).toBe(true);
      expect([await exists(anonymous.chat_id), await exists(plain.chat_id), await exists(strictOld.chat_id)]).toEqual([
        true,
        true,
        false,
      ]);
      await db().jobLease.deleteMany({});
    } finally {
      await keeper.close();
    }
  });
});

describe('the periodic sweep, in real processes', () => {
  it('two instances on one database: the sweep runs on its own, on one of them, and logs what it deleted', async () => {
    const u = await newUser();
    const old = await newChat(u.user_id);
    await age(old.chat_id, { created: 45 });
    await db().jobLease.deleteMany({});
    const env = { RETENTION_DAYS: '30', RETENTION_SWEEP_INTERVAL_SECONDS: '1' };
    const [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    try {
      const deadline = Date.now() + 15_000;
      while ((await http(a.url, 'GET', `/chats/${old.chat_id}`)).status !== 404) {
        if (Date.now() > deadline) throw new Error(`not swept:\n${a.output()}\n${b.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // A few more intervals: each instance has offered to sweep several times by now.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const sweeps = [a, b].map((g) => g.output().match(/retention sweep finished/g)?.length ?? 0);
      expect(sweeps.filter((n) => n > 0)).toHaveLength(1);
      const deletedIds = [a, b]
        .flatMap((g) => g.output().split('\n'))
        .filter((line) => line.includes('retention sweep: deleted inactive chats'))
        .flatMap((line) => (JSON.parse(line) as { chat_ids: number[] }).chat_ids);
      expect(deletedIds).toContain(old.chat_id);
    } finally {
      await Promise.all([stopGateway(a), stopGateway(b)]);
    }
  });
});
