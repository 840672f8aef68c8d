// The streaming reader of POST /chats/import agrees with JSON.parse on any text, however the
// body is cut into chunks: the same elements of an array, the same whole value, the same refusals.
import fc from 'fast-check';
import { BodyError } from '../../../src/http/body';
import { readJsonItems } from '../../../src/modules/imports/stream';

/** `text` as a body arriving in chunks cut at `cuts` (byte offsets). */
function body(text: string, cuts: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks = [0, ...points, bytes.length].slice(1).map((end, i, all) => bytes.slice(i === 0 ? 0 : all[i - 1], end));
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function read(text: string, cuts: number[]) {
  const items: unknown[] = [];
  try {
    const result = await readJsonItems(body(text, cuts), 1e9, (item) => items.push(item));
    return { result, items };
  } catch (error) {
    if (error instanceof BodyError) return { refused: error.problem };
    throw error;
  }
}

function expected(text: string) {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { refused: 'not-json' };
  }
  return Array.isArray(value)
    ? { result: { items: value.length }, items: value }
    : { result: { whole: value }, items: [] };
}

const cuts = fc.array(fc.nat(), { maxLength: 8 });
const spaced = fc
  .tuple(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(undefined, 0, 1, '\t', ' \r\n '))
  .map(([value, space]) => JSON.stringify(value, null, space as never));

it('reads what JSON.parse reads, element by element, in any chunks', async () => {
  await fc.assert(
    fc.asyncProperty(spaced, cuts, async (text, at) => {
      expect(await read(text, at)).toEqual(expected(text));
    }),
    { numRuns: 400 },
  );
});

it('refuses what JSON.parse refuses', async () => {
  const broken = fc.oneof(
    // Valid JSON with a character taken out or put in.
    fc
      .tuple(spaced, fc.nat(), fc.constantFrom('', ',', ']', '[', '"', '}', '{', ' ', '1', '\\'))
      .map(
        ([text, i, c]) => text.slice(0, i % (text.length + 1)) + c + text.slice((i % (text.length + 1)) + (c ? 0 : 1)),
      ),
    fc.string(),
    fc.constantFrom('', ' ', '[', '[1,]', '[,1]', '[1 2]', '[01]', '[1]x', '[{"a":1}}]', '["a" "b"]', '[]]', '["\\"]'),
  );
  await fc.assert(
    fc.asyncProperty(broken, cuts, async (text, at) => {
      expect(await read(text, at)).toEqual(expected(text));
    }),
    { numRuns: 600 },
  );
});

it('stops at the limit', async () => {
  await expect(readJsonItems(body('[1,2,3]', [2]), 4, () => undefined)).rejects.toMatchObject({ problem: 'too-large' });
});
