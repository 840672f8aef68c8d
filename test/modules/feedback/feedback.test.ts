import { db } from '../../support/gateway';
import { addMessage, call, gql, isoUtc, keysOf, listen, newChat, newUser } from '../../support/http';
import { subscribe } from '../../support/sse';

const ADMIN = { 'x-admin-api-key': 'test-admin-key' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const path = (chat: number, message: number, user?: number) =>
  `/chats/${chat}/messages/${message}/feedback${user === undefined ? '' : `?user_id=${user}`}`;

/** A user's chat with a question and its answer. */
async function answered(question = 'What were the sales in March?', answer = 'About 1.2 million') {
  const u = await newUser('feedback');
  const c = await newChat(u.user_id);
  const q = await addMessage(c.chat_id, question);
  const a = await addMessage(c.chat_id, answer, 'ai');
  return { user: u.user_id, chat: c.chat_id, question: q.message_id, answer: a.message_id };
}

async function post(chat: number, body: Record<string, unknown>) {
  const r = await call('POST', `/chats/${chat}/messages`, body);
  if (r.status !== 200) throw new Error(`add message: ${r.status} ${r.text}`);
  return r.json.message_id as number;
}

/** RFC 4180 records: quoted fields may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

describe('PUT and DELETE /chats/{chat_id}/messages/{message_id}/feedback', () => {
  it('gives feedback, replaces it (created_at stays, updated_at moves), and deletes it', async () => {
    const f = await answered();
    const first = await call('PUT', path(f.chat, f.answer, f.user), {
      rating: 'up',
      reason: 'helpful',
      comment: 'Nice',
    });
    expect(first.status).toBe(200);
    expect(Object.keys(first.json)).toEqual(['message_id', 'rating', 'reason', 'comment', 'updated_at']);
    expect(first.json).toMatchObject({ message_id: f.answer, rating: 'up', reason: 'helpful', comment: 'Nice' });
    expect(isoUtc(first.json.updated_at)).toBe(true);
    const created = (await db().messageFeedback.findUniqueOrThrow({ where: { message_id: f.answer } })).created_at;
    await sleep(15);

    // Blank text is none; text is trimmed.
    const second = await call('PUT', path(f.chat, f.answer, f.user), {
      rating: 'down',
      reason: '  ',
      comment: '  Wrong region  ',
    });
    expect(second.json).toMatchObject({ rating: 'down', reason: null, comment: 'Wrong region' });
    expect(Date.parse(second.json.updated_at)).toBeGreaterThan(Date.parse(first.json.updated_at));
    const rows = await db().messageFeedback.findMany({ where: { message_id: f.answer } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.created_at).toEqual(created);
    expect(rows[0]?.chat_id).toBe(f.chat);

    // Message.feedback on GraphQL: null on the question, the feedback on the answer.
    const g = await gql(
      'query($c: Int!) { chat(chat_id: $c) { messages { message_id feedback { rating comment } } } }',
      {
        c: f.chat,
      },
    );
    expect(g.json.data.chat.messages).toEqual([
      { message_id: f.question, feedback: null },
      { message_id: f.answer, feedback: { rating: 'down', comment: 'Wrong region' } },
    ]);

    const del = await call('DELETE', path(f.chat, f.answer, f.user));
    expect([del.status, del.json]).toEqual([200, { message: `Feedback on message ${f.answer} deleted` }]);
    expect(await db().messageFeedback.count({ where: { message_id: f.answer } })).toBe(0);
    const again = await call('DELETE', path(f.chat, f.answer));
    expect(again.status).toBe(404);
    expect(again.json.detail).toMatch(/No feedback/);
  });

  it('works over GraphQL: set_feedback and delete_feedback', async () => {
    const f = await answered();
    const set = await gql(
      'mutation($c: Int!, $m: Int!) { set_feedback(chat_id: $c, message_id: $m, rating: up, reason: "clear") { message_id chat_id rating reason created_at } }',
      { c: f.chat, m: f.answer },
    );
    expect(set.json.data.set_feedback).toMatchObject({ message_id: f.answer, chat_id: f.chat, rating: 'up' });
    const del = await gql('mutation($c: Int!, $m: Int!) { delete_feedback(chat_id: $c, message_id: $m) { message } }', {
      c: f.chat,
      m: f.answer,
    });
    expect(del.json.data.delete_feedback.message).toBe(`Feedback on message ${f.answer} deleted`);
  });

  it('refuses a user message with 422', async () => {
    const f = await answered();
    const r = await call('PUT', path(f.chat, f.question, f.user), { rating: 'up' });
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(/user message; feedback is only on AI answers/);
    expect(await db().messageFeedback.count({ where: { message_id: f.question } })).toBe(0);
  });

  it('answers 404 for a message of another chat, a missing message or chat, and another user’s chat', async () => {
    const f = await answered();
    const g = await answered();
    const elsewhere = await call('PUT', path(f.chat, g.answer, f.user), { rating: 'up' });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json.detail).toBe(`Message with ID ${g.answer} not found in chat ${f.chat}`);
    expect((await call('PUT', path(f.chat, 999999999), { rating: 'up' })).json.detail).toBe(
      `Message with ID 999999999 not found in chat ${f.chat}`,
    );
    expect((await call('PUT', path(999999999, f.answer), { rating: 'up' })).status).toBe(404);
    // Another user's chat looks exactly like a missing chat, as on GET /chats/{chat_id}.
    await call('PUT', path(f.chat, f.answer, f.user), { rating: 'up' });
    const read = await call('GET', `/chats/${f.chat}?user_id=${g.user}`);
    const other = await call('PUT', path(f.chat, f.answer, g.user), { rating: 'down' });
    expect([other.status, other.json]).toEqual([read.status, read.json]);
    const otherDelete = await call('DELETE', path(f.chat, f.answer, g.user));
    expect([otherDelete.status, otherDelete.json]).toEqual([404, read.json]);
    expect((await db().messageFeedback.findUniqueOrThrow({ where: { message_id: f.answer } })).rating).toBe('up');
    expect(await db().messageFeedback.count({ where: { message_id: g.answer } })).toBe(0);
  });

  it('refuses bad input with 422 and changes nothing', async () => {
    const f = await answered();
    await call('PUT', path(f.chat, f.answer, f.user), { rating: 'up', comment: 'kept' });
    const before = await db().messageFeedback.findUniqueOrThrow({ where: { message_id: f.answer } });
    const bodies = [
      { rating: 'meh' },
      { rating: 'UP' },
      {},
      { rating: 'down', comment: 'x'.repeat(2001) },
      { rating: 'down', reason: 'r'.repeat(101) },
      { rating: 'down', comment: 'nul \u0000' },
      { rating: 'down', comment: 5 },
    ];
    for (const body of bodies) {
      const r = await call('PUT', path(f.chat, f.answer, f.user), body);
      expect([JSON.stringify(body).slice(0, 60), r.status, typeof r.json?.detail]).toEqual([
        JSON.stringify(body).slice(0, 60),
        422,
        'string',
      ]);
    }
    // The limits count characters: 2,000 emoji are a valid comment.
    const emoji = await call('PUT', path(f.chat, f.answer, f.user), { rating: 'down', comment: '😀'.repeat(2000) });
    expect(emoji.status).toBe(200);
    await call('PUT', path(f.chat, f.answer, f.user), { rating: before.rating, comment: 'kept' });
    const g = await gql(
      'mutation($c: Int!, $m: Int!, $t: String) { set_feedback(chat_id: $c, message_id: $m, rating: down, comment: $t) { rating } }',
      { c: f.chat, m: f.answer, t: 'y'.repeat(2001) },
    );
    expect(g.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const after = await db().messageFeedback.findUniqueOrThrow({ where: { message_id: f.answer } });
    expect([after.rating, after.comment]).toEqual(['up', 'kept']);
  });
});

describe('GET /feedback (the export)', () => {
  let since = '';
  const ids: Record<string, number> = {};
  let owner = 0;
  let branched = { chat: 0, root: 0, second: 0, regenerated: 0, followUp: 0 };

  beforeAll(async () => {
    since = new Date(Date.now() - 1).toISOString();
    // A chat with usage: the model at the time of each answer.
    const u = await newUser('export');
    owner = u.user_id;
    const c = await newChat(owner);
    await addMessage(c.chat_id, 'Sales by region?');
    await call('POST', '/usage', {
      user_id: owner,
      chat_id: c.chat_id,
      model_name: 'gpt-4o',
      prompt_tokens: 1,
      completion_tokens: 1,
    });
    await sleep(10);
    ids.first = (await addMessage(c.chat_id, 'North, 40%, "mostly"\nthen South', 'ai')).message_id;
    await sleep(10);
    await call('POST', '/usage', {
      user_id: owner,
      chat_id: c.chat_id,
      model_name: 'claude-3-5-haiku',
      prompt_tokens: 1,
      completion_tokens: 1,
    });
    await addMessage(c.chat_id, '=1+1 and why?');
    await sleep(10);
    ids.second = (await addMessage(c.chat_id, 'Because', 'ai')).message_id;
    // A chat with no usage.
    const plain = await answered('Hello?', 'Hi there');
    ids.plain = plain.answer;
    // A branched chat: the second question follows the first, and the regenerated answer answers the first.
    const b = await newChat(owner);
    const root = await post(b.chat_id, { content: 'Original question', sender: 'user' });
    const second = await post(b.chat_id, { content: 'A later question', sender: 'user' });
    const regenerated = await post(b.chat_id, { content: 'Answer to the original', sender: 'ai', parent_id: root });
    const followUp = await post(b.chat_id, { content: 'More on that', sender: 'ai', parent_id: regenerated });
    branched = { chat: b.chat_id, root, second, regenerated, followUp };

    const set = (chat: number, message: number, body: Record<string, unknown>) =>
      call('PUT', path(chat, message), body).then((r) => {
        if (r.status !== 200) throw new Error(`feedback: ${r.status} ${r.text}`);
      });
    await set(c.chat_id, ids.first as number, {
      rating: 'down',
      reason: 'wrong',
      comment: 'Says "North", but, no\nreally',
    });
    await set(c.chat_id, ids.second as number, { rating: 'up', comment: '@SUM(A1:A9)' });
    await set(plain.chat, plain.answer, { rating: 'up' });
    await set(b.chat_id, regenerated, { rating: 'down' });
    await set(b.chat_id, followUp, { rating: 'up', reason: 'detail' });
  });

  const exportJson = async (query: string) => {
    const r = await call('GET', `/feedback?format=json&from=${encodeURIComponent(since)}${query}`, undefined, ADMIN);
    expect(r.status).toBe(200);
    return r.json as Record<string, unknown>[];
  };

  it('has each row’s question, answer and model in JSON', async () => {
    const rows = await exportJson('');
    expect(rows.map((r) => r.message_id)).toEqual([
      ids.first,
      ids.second,
      ids.plain,
      branched.regenerated,
      branched.followUp,
    ]);
    expect(keysOf(rows[0])).toEqual(
      [
        'message_id',
        'chat_id',
        'user_id',
        'rating',
        'reason',
        'comment',
        'created_at',
        'updated_at',
        'question',
        'answer',
        'model_name',
      ].sort(),
    );
    const [first, second, plain, regenerated, followUp] = rows;
    expect(first).toMatchObject({
      user_id: owner,
      rating: 'down',
      reason: 'wrong',
      question: 'Sales by region?',
      answer: 'North, 40%, "mostly"\nthen South',
      model_name: 'gpt-4o',
    });
    expect(isoUtc(first?.updated_at)).toBe(true);
    expect(second).toMatchObject({ question: '=1+1 and why?', answer: 'Because', model_name: 'claude-3-5-haiku' });
    expect(plain).toMatchObject({ question: 'Hello?', answer: 'Hi there', model_name: null, reason: null });
    // The question is the answer's parent, not the message before it by ID ('A later question').
    expect(regenerated).toMatchObject({ question: 'Original question', answer: 'Answer to the original' });
    // An answer following an answer: the nearest user message above it.
    expect(followUp).toMatchObject({ question: 'Original question', answer: 'More on that', model_name: null });
  });

  it('filters by rating and by when feedback was last set', async () => {
    expect((await exportJson('&rating=down')).map((r) => r.message_id)).toEqual([ids.first, branched.regenerated]);
    await sleep(10);
    const cut = new Date().toISOString();
    await sleep(10);
    // Replacing feedback moves it into a later window.
    await call('PUT', path(branched.chat, branched.regenerated), { rating: 'up' });
    const later = await call('GET', `/feedback?format=json&from=${encodeURIComponent(cut)}`, undefined, ADMIN);
    expect(later.json.map((r: { message_id: number }) => r.message_id)).toEqual([branched.regenerated]);
    const before = await exportJson(`&to=${encodeURIComponent(cut)}`);
    expect(before.map((r) => r.message_id)).not.toContain(branched.regenerated);
    expect(before).toHaveLength(4);
    expect((await exportJson('&rating=down')).map((r) => r.message_id)).toEqual([ids.first]);
  });

  it('streams CSV quoted as RFC 4180, with spreadsheet formulas defused', async () => {
    const r = await call('GET', `/feedback?from=${encodeURIComponent(since)}`, undefined, {
      ...ADMIN,
      'accept-encoding': 'gzip',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="feedback-\d{4}-\d\d-\d\d\.csv"$/);
    expect(r.headers.get('content-encoding')).toBeNull();
    const [header, ...rows] = parseCsv(r.text);
    expect(header?.join(',')).toBe(
      'message_id,chat_id,user_id,rating,reason,comment,created_at,updated_at,question,answer,model_name',
    );
    expect(rows).toHaveLength(5);
    const first = rows[0] as string[];
    expect(first.slice(3, 6)).toEqual(['down', 'wrong', 'Says "North", but, no\nreally']);
    expect(first.slice(8)).toEqual(['Sales by region?', 'North, 40%, "mostly"\nthen South', 'gpt-4o']);
    expect(r.text).toContain('"Says ""North"", but, no\nreally"');
    const second = rows[1] as string[];
    expect([second[5], second[8]]).toEqual(["'@SUM(A1:A9)", "'=1+1 and why?"]);
    // No usage: an empty cell.
    expect((rows[2] as string[])[10]).toBe('');
  });

  it('is the same through GraphQL’s feedback_export, a page at a time', async () => {
    const g = await gql(
      'query($f: String) { feedback_export(from: $f, limit: 2, offset: 1) { message_id question answer model_name } }',
      { f: since },
      ADMIN,
    );
    expect(g.json.data.feedback_export).toEqual([
      { message_id: ids.second, question: '=1+1 and why?', answer: 'Because', model_name: 'claude-3-5-haiku' },
      { message_id: ids.plain, question: 'Hello?', answer: 'Hi there', model_name: null },
    ]);
    const bad = await gql('{ feedback_export(from: "yesterday") { message_id } }', {}, ADMIN);
    expect(bad.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('is for admins only, and refuses bad parameters with 422', async () => {
    const r = await call('GET', '/feedback');
    expect([r.status, typeof r.json.detail]).toEqual([403, 'string']);
    expect((await gql('{ feedback_export { message_id } }')).json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await call('POST', '/feedback', {}, ADMIN)).status).toBe(405);
    const head = await call('HEAD', '/feedback?format=json', undefined, ADMIN);
    expect([head.status, head.headers.get('content-type'), head.text]).toEqual([
      200,
      'application/json; charset=utf-8',
      '',
    ]);
    for (const bad of [
      'format=pdf',
      'rating=meh',
      'from=yesterday',
      'from=2026-02-31',
      'to=2020-01-01&from=2021-01-01',
      'user_id=1',
      'rating=up&rating=down',
    ]) {
      const reply = await call('GET', `/feedback?${bad}`, undefined, ADMIN);
      expect([bad, reply.status, typeof reply.json?.detail]).toEqual([bad, 422, 'string']);
    }
  });
});

describe('the feedback_given subscription', () => {
  it('tells admins of each feedback given, as the feedback', async () => {
    const f = await answered();
    const server = await listen();
    const sub = await subscribe(
      server.base,
      'subscription { feedback_given { message_id chat_id rating comment } }',
      {},
      ADMIN,
    );
    try {
      await sleep(100);
      await call('PUT', path(f.chat, f.answer, f.user), { rating: 'down', comment: 'Too vague' });
      const event = await sub.next();
      expect(event.data.feedback_given).toEqual({
        message_id: f.answer,
        chat_id: f.chat,
        rating: 'down',
        comment: 'Too vague',
      });
    } finally {
      sub.close();
      await server.close();
    }
  });

  it('is not for other callers', async () => {
    const g = await gql('subscription { feedback_given { message_id } }');
    expect(g.json.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('GET /feedback over many rows', () => {
  it('streams every row across its pages, in message_id order', async () => {
    const from = new Date(Date.now() - 1).toISOString();
    const u = await newUser('many');
    const c = await newChat(u.user_id);
    const q = await addMessage(c.chat_id, 'One question');
    await db().message.createMany({
      data: Array.from({ length: 250 }, (_, i) => ({
        chat_id: c.chat_id,
        content: `Answer ${i}`,
        sender: 'ai',
        parent_id: q.message_id,
      })),
    });
    const answers = await db().message.findMany({
      where: { chat_id: c.chat_id, sender: 'ai' },
      orderBy: { message_id: 'asc' },
      select: { message_id: true },
    });
    await db().messageFeedback.createMany({
      data: answers.map((a, i) => ({ message_id: a.message_id, chat_id: c.chat_id, rating: i % 2 ? 'down' : 'up' })),
    });
    const r = await call('GET', `/feedback?format=json&from=${encodeURIComponent(from)}`, undefined, ADMIN);
    expect(r.status).toBe(200);
    expect(r.json.map((row: { message_id: number }) => row.message_id)).toEqual(answers.map((a) => a.message_id));
    expect(new Set(r.json.map((row: { question: string }) => row.question))).toEqual(new Set(['One question']));
    const csv = await call('GET', `/feedback?rating=down&from=${encodeURIComponent(from)}`, undefined, ADMIN);
    expect(parseCsv(csv.text)).toHaveLength(1 + 125);
  });
});
