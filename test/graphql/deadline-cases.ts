import { usePostgres } from '../support/databases';
import { db, gateway } from '../support/gateway';
import { addMessage, call, gql, listen, newChat, newUser } from '../support/http';
import { subscribe } from '../support/sse';

/*
 * The request deadline's cases, run by deadline.test.ts on a gateway that runs every query compiled
 * (src/graphql/compiled-execution.ts, as the suite does) and by deadline-interpreted.test.ts on one
 * whose executor interprets every query, as production does for a query's first run.
 */
export function deadlineCases(): void {
  const DEADLINE_MS = 500;

  // Counts the SQL statements a request runs, through Prisma or read directly (src/rest/direct.ts);
  // with `stall` set, the first one holds the process (synchronously, as a slow step would) until
  // the deadline has surely passed.
  let recording: string[] | null = null;
  let stall = false;
  const ran = (sql: string) => {
    recording?.push(sql);
    if (!stall) return;
    stall = false;
    const until = performance.now() + DEADLINE_MS + 50;
    while (performance.now() < until) {
      // busy: nothing else runs, the deadline passes
    }
  };
  beforeAll(() => {
    db().$on('query', (event) => ran(event.query));
    const direct = gateway().services.sql;
    if (direct) {
      const rows = direct.rows.bind(direct);
      // Stalled within the call, as a slow SQLite statement (run synchronously) would be.
      jest.spyOn(direct, 'rows').mockImplementation((sql, params) => {
        const result = rows(sql, params);
        ran(`direct: ${sql}`);
        return result;
      });
    }
  });

  async function run<T>(request: () => Promise<T>, { stalled }: { stalled: boolean }) {
    recording = [];
    stall = stalled;
    try {
      const result = await request();
      return { result, statements: recording };
    } finally {
      recording = null;
      stall = false;
    }
  }

  /**
   * Statements one after the other (at least three): each step needs the previous one's rows. Each
   * page is its own statement; on SQLite the page's `chat` is one more, on PostgreSQL it is joined.
   */
  const CHAIN = `query($c: Int!) { chat(chat_id: $c) {
    messages_page(first: 1) { edges { node { chat {
      messages_page(first: 1) { edges { node { chat { chat_id } } } } } } } } } }`;

  describe(`REQUEST_DEADLINE_MS=${DEADLINE_MS}`, () => {
    it('lets a query that finishes in time through: several statements in a row', async () => {
      const c = await newChat();
      await addMessage(c.chat_id, 'hello');
      const { result, statements } = await run(() => gql(CHAIN, { c: c.chat_id }), { stalled: false });
      expect(result.json.errors).toBeUndefined();
      expect(statements.length).toBeGreaterThanOrEqual(usePostgres ? 3 : 5);
    });

    it('stops a GraphQL query at the deadline: no later step starts, the caller gets DEADLINE_EXCEEDED', async () => {
      const c = await newChat();
      await addMessage(c.chat_id, 'hello');
      const { result, statements } = await run(() => gql(CHAIN, { c: c.chat_id }), { stalled: true });
      expect(result.status).toBe(200);
      expect(result.json.errors).toEqual([
        expect.objectContaining({
          message: `The request ran past its deadline of ${DEADLINE_MS} ms`,
          extensions: { code: 'DEADLINE_EXCEEDED' },
        }),
      ]);
      expect(statements).toHaveLength(1);
      // Nothing left running: the next request's statements are its own.
      const after = await run(() => gql('{ chats { chat_id } }'), { stalled: false });
      expect(after.statements).toHaveLength(1);
    });

    it('answers at the deadline while a step still waits on the database, without waiting for it', async () => {
      const c = await newChat();
      // The chat's read is held open until the answer has arrived: were the deadline to wait for
      // it, no answer would come (and the test would time out).
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const bound = setTimeout(release, 20_000); // should the deadline fail, the test fails rather than hangs
      const findFirst = db().chat.findFirst;
      db().chat.findFirst = (async (args: Parameters<typeof findFirst>[0]) => {
        const chat = await findFirst(args);
        await held;
        return chat;
      }) as typeof findFirst;
      try {
        const r = await gql(`{ chat(chat_id: ${c.chat_id}) { chat_id } }`);
        expect(r.json.errors[0].extensions.code).toBe('DEADLINE_EXCEEDED');
      } finally {
        db().chat.findFirst = findFirst;
        clearTimeout(bound);
        release();
      }
    });

    // The chat is read directly from SQL (src/rest/direct.ts); its messages page by its operation.
    it.each([
      ['', true],
      ['/messages', false],
    ])(
      'answers a REST read (/chats/{id}%s) past its deadline with 503, Retry-After and a detail',
      async (tail, direct) => {
        const u = await newUser();
        const c = await newChat(u.user_id);
        await addMessage(c.chat_id, 'hello');
        const path = `/chats/${c.chat_id}${tail}?user_id=${u.user_id}`;
        const { result, statements } = await run(() => call('GET', path), { stalled: true });
        expect(result.status).toBe(503);
        expect(result.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(result.json).toEqual({ detail: `The request ran past its deadline of ${DEADLINE_MS} ms` });
        // A direct read cut at the deadline is not tried again by the route's operation.
        expect(statements.length).toBeGreaterThan(0);
        expect(statements.filter((sql) => sql.startsWith('direct: ') !== direct)).toEqual([]);
      },
    );

    it('answers a direct REST read at the deadline while its statement still waits, without waiting for it', async () => {
      const c = await newChat();
      const direct = gateway().services.sql;
      if (!direct) throw new Error('this gateway reads directly');
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const bound = setTimeout(release, 20_000);
      const rows = direct.rows;
      direct.rows = async (sql, params) => {
        await held;
        return rows(sql, params);
      };
      try {
        const started = performance.now();
        const r = await call('GET', `/chats/${c.chat_id}`);
        expect(r.status).toBe(503);
        expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 5_000);
      } finally {
        direct.rows = rows;
        clearTimeout(bound);
        release();
      }
    });

    it('does not cut a mutation that started its writes: the answer tells what was written', async () => {
      const c = await newChat();
      const { result } = await run(
        () => call('POST', `/chats/${c.chat_id}/messages`, { content: 'kept', sender: 'user' }),
        {
          stalled: true,
        },
      );
      expect(result.status).toBe(200);
      const read = await call('GET', `/chats/${c.chat_id}`);
      expect(read.json.messages.map((m: { message_id: number }) => m.message_id)).toEqual([result.json.message_id]);
    });
  });

  describe('subscriptions', () => {
    let server: Awaited<ReturnType<typeof listen>>;
    let base = '';
    beforeAll(async () => {
      server = await listen();
      base = server.base;
    });
    afterAll(() => server.close());

    it('are not cut by the deadline: a stream open for longer still delivers', async () => {
      const c = await newChat();
      const sub = await subscribe(base, 'subscription($c: Int!) { message_added(chat_id: $c) { content } }', {
        c: c.chat_id,
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS * 2));
        await addMessage(c.chat_id, 'still here');
        expect(await sub.next()).toEqual({ data: { message_added: { content: 'still here' } } });
      } finally {
        sub.close();
      }
    });
  });
}
