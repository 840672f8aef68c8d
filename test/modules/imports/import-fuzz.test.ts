// Property-based: ChatGPT conversations with random structure and hostile values, and hostile
// bodies, at POST /chats/import. Whatever comes in: no 500; a refusal is a 4xx {"detail"} and
// writes nothing; what is imported keeps the tree's invariants (a parent in the same chat, with
// a smaller ID; the active leaf one of the chat's messages).
import fc from 'fast-check';
import { hostileBodyBytes, hostileJson, hostileString } from '../../support/fuzz-inputs';
import { db, gateway } from '../../support/gateway';
import { newUser, readReply } from '../../support/http';

// hostileJson has texts JSON refuses too (NaN, 01): those stay strings.
const anyValue = hostileJson.map((text): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
});
/** Mostly `good`, now and then `bad`: so that some conversations are imported, not all refused. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: good, weight: 40 }, { arbitrary: bad, weight: 1 });
const time = mostly(
  fc.oneof(fc.constant(null), fc.double({ min: 0, max: 2_000_000_000, noNaN: true })),
  fc.oneof(fc.integer({ min: -5, max: 5 }), anyValue),
);
const message = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      author: mostly(
        fc.record({ role: fc.constantFrom('user', 'assistant', 'user', 'assistant', 'system', 'tool', 'critic') }),
        anyValue,
      ),
      content: mostly(
        fc.record({
          content_type: fc.constantFrom('text', 'text', 'code', 'multimodal_text'),
          parts: mostly(
            fc.array(mostly(fc.string({ minLength: 1 }), hostileString), { minLength: 1, maxLength: 2 }),
            anyValue,
          ),
        }),
        anyValue,
      ),
      create_time: time,
      recipient: mostly(fc.constant('all'), fc.constant('python')),
      metadata: mostly(fc.constantFrom({}, { is_visually_hidden_from_conversation: true }), anyValue),
    },
    { requiredKeys: ['author', 'content'] },
  ),
);
/** A mapping of up to 5 nodes; each names an earlier node as parent (now and then a later one, itself or none). */
const mapping = fc
  .array(
    fc.record({
      message,
      parent: mostly(fc.oneof(fc.constant(null), fc.nat(4)), fc.oneof(fc.constant('missing'), fc.integer())),
      backwards: mostly(fc.constant(true), fc.constant(false)),
      children: mostly(fc.constant(undefined), fc.array(fc.constantFrom('n0', 'n9'), { maxLength: 2 })),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((nodes) =>
    Object.fromEntries(
      nodes.map(({ message, parent, backwards, children }, i) => {
        // An earlier node keeps the tree a tree; the rest makes cycles and missing parents.
        const p = typeof parent === 'number' && backwards ? (i > 0 ? parent % i : null) : parent;
        return [`n${i}`, { id: `n${i}`, message, parent: typeof p === 'number' ? `n${p}` : p, children }];
      }),
    ),
  );
const conversation = fc.record(
  {
    title: mostly(fc.oneof(fc.string(), fc.constant(null)), fc.oneof(hostileString, fc.integer())),
    create_time: time,
    mapping: mostly(mapping, anyValue),
    current_node: fc.constantFrom(null, null, 'n0', 'n1'),
  },
  { requiredKeys: ['mapping'] },
);
const body = fc.oneof(
  { arbitrary: fc.array(conversation, { minLength: 1, maxLength: 2 }).map((c) => JSON.stringify(c)), weight: 6 },
  { arbitrary: hostileJson, weight: 1 },
  { arbitrary: hostileBodyBytes, weight: 1 },
);

const counts = async () => ({ chats: await db().chat.count(), messages: await db().message.count() });

it('never fails, never half-imports, and keeps the tree’s invariants', async () => {
  const u = await newUser();
  let imported = 0;
  await fc.assert(
    fc.asyncProperty(body, async (sent) => {
      const before = await counts();
      const reply = await readReply(
        await gateway().yoga.fetch(`http://localhost/chats/import?user_id=${u.user_id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: typeof sent === 'string' ? sent : new Uint8Array(sent),
        }),
      );
      if (reply.status !== 200) {
        expect([reply.status >= 400 && reply.status < 500, Object.keys(reply.json ?? {})]).toEqual([true, ['detail']]);
        expect(await counts()).toEqual(before);
        return;
      }
      expect(reply.json.imported).toBe(reply.json.chat_ids.length);
      for (const chatId of reply.json.chat_ids as number[]) {
        imported++;
        const chat = await db().chat.findUniqueOrThrow({ where: { chat_id: chatId } });
        const messages = await db().message.findMany({ where: { chat_id: chatId } });
        const byId = new Map(messages.map((m) => [m.message_id, m]));
        expect(messages.length).toBeGreaterThan(0);
        expect(byId.has(chat.active_leaf_id as number)).toBe(true);
        for (const m of messages) {
          if (m.parent_id !== null) expect([byId.has(m.parent_id), m.parent_id < m.message_id]).toEqual([true, true]);
          if (m.parent_id !== null) {
            expect(m.timestamp.getTime()).toBeGreaterThanOrEqual(byId.get(m.parent_id)?.timestamp.getTime() ?? 0);
          }
        }
      }
    }),
    { numRuns: 150 },
  );
  // The generator must reach the writes, not only the refusals.
  expect(imported).toBeGreaterThan(0);
}, 120_000);
