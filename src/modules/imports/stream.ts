import { BodyError, decodeUtf8 } from '../../http/body';

/*
 * A top-level JSON array read an element at a time as the body streams in: each element's bytes
 * are found by tracking strings and nesting, then parsed on their own (JSON.parse), handed over
 * and let go, so a large ChatGPT export is never held whole, as text or as objects. Anything but
 * an array (one exported chat) is read whole and parsed at the end.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = new Set([0x5b, 0x7b]);
const CLOSE_ARRAY = 0x5d;
const CLOSE = new Set([0x5d, 0x7d]);
/** A UTF-8 byte order mark, allowed at the very start (as TextDecoder allows it). */
const BOM = [0xef, 0xbb, 0xbf];

const notJson = (what = 'The request body is not valid JSON') => new BodyError('not-json', what);

function parse(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes));
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw notJson(what);
  }
}

/**
 * Reads `body` (at most `limit` bytes, else a `too-large` BodyError): each element of a top-level
 * array goes to `onItem` as soon as it is complete (a throw stops the reading); any other JSON
 * value is returned whole. A body that is not JSON is a `not-json` BodyError.
 */
export async function readJsonItems(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  onItem: (value: unknown, index: number) => void,
): Promise<{ whole: unknown } | { items: number }> {
  let mode: 'start' | 'array' | 'whole' | 'end' = 'start';
  // Between elements: after `[` (an element or `]`), after `,` (an element), after an element (`,` or `]`).
  let expect: 'first' | 'item' | 'sep' = 'first';
  let inItem = false;
  let scalar = false;
  let inString = false;
  let escaped = false;
  let depth = 0;
  let parts: Uint8Array[] = [];
  let index = 0;
  let size = 0;
  const whole: Uint8Array[] = [];

  const endItem = (chunk: Uint8Array, from: number, to: number) => {
    parts.push(chunk.subarray(from, to));
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    parts = [];
    inItem = false;
    expect = 'sep';
    onItem(parse(bytes, `conversations[${index}]: not valid JSON`), index);
    index++;
  };

  const reader = body?.getReader();
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = reader ? await reader.read() : { done: true, value: undefined };
    } catch {
      throw new BodyError('unreadable', 'The request body could not be read');
    }
    if (step.done) break;
    const chunk = step.value;
    size += chunk.byteLength;
    if (size > limit) throw new BodyError('too-large', 'Request body too large');
    if (mode === 'whole') {
      whole.push(chunk);
      continue;
    }
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (mode === 'start') {
        const offset = size - chunk.byteLength + i;
        if (WS.has(c) || (offset < 3 && BOM[offset] === c)) continue;
        if (c === 0x5b) {
          mode = 'array';
          continue;
        }
        mode = 'whole';
        whole.push(chunk.subarray(i));
        break;
      }
      if (mode === 'end') {
        if (!WS.has(c)) throw notJson();
        continue;
      }
      if (inItem) {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            inString = false;
            if (scalar) endItem(chunk, start, i + 1);
          }
        } else if (scalar) {
          // A number, true, false or null ends where a separator begins, which is read again.
          if (WS.has(c) || c === COMMA || c === CLOSE_ARRAY) {
            endItem(chunk, start, i);
            i--;
          }
        } else if (c === QUOTE) inString = true;
        else if (OPEN.has(c)) depth++;
        else if (CLOSE.has(c)) {
          depth--;
          if (depth === 0) endItem(chunk, start, i + 1);
        }
        continue;
      }
      if (WS.has(c)) continue;
      // (A cast: TypeScript does not see endItem set it.)
      if ((expect as string) === 'sep') {
        if (c === COMMA) expect = 'item';
        else if (c === CLOSE_ARRAY) mode = 'end';
        else throw notJson();
        continue;
      }
      if (c === CLOSE_ARRAY && expect === 'first') {
        mode = 'end';
        continue;
      }
      if (c === COMMA || CLOSE.has(c)) throw notJson();
      inItem = true;
      start = i;
      depth = OPEN.has(c) ? 1 : 0;
      scalar = !OPEN.has(c);
      inString = c === QUOTE;
      escaped = false;
    }
    if (inItem) parts.push(chunk.subarray(start));
  }
  if (mode === 'whole')
    return {
      whole: parse(
        whole.length === 1 ? (whole[0] as Uint8Array) : Buffer.concat(whole),
        'The request body is not valid JSON',
      ),
    };
  if (mode !== 'end') throw notJson();
  return { items: index };
}
