import type { DocumentNode } from 'graphql';
import type { YogaServerOptions } from 'graphql-yoga';

/**
 * Yoga caches each parsed document (and each parse error) by the document's text. Its default
 * cache counts entries, not size: 1,024 documents of up to MAX_BODY_BYTES each, and a syntax
 * tree takes up to about 50 times its text, so a few hundred distinct large queries held
 * gigabytes. These caches are weighed by the text they hold instead.
 */
const MAX_CHARS = 256 * 1024;
/** An application's operations are a few kilobytes; a larger document is parsed each time. */
export const MAX_CACHED_DOCUMENT = 16 * 1024;

/** Least recently used first out, weighed by the length of the keys. */
class TextKeyedCache<V> {
  readonly #entries = new Map<string, V>();
  #chars = 0;
  hits = 0;

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** The value, without counting a hit or moving it: for looking before Yoga's own lookup. */
  peek(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    if (key.length > MAX_CACHED_DOCUMENT) return;
    if (this.#entries.delete(key)) this.#chars -= key.length;
    this.#entries.set(key, value);
    this.#chars += key.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#chars <= MAX_CHARS) break;
      this.#entries.delete(oldest);
      this.#chars -= oldest.length;
    }
  }

  get chars(): number {
    return this.#chars;
  }
}

/**
 * Yoga's `parserAndValidationCache`, one per gateway: cached validation results depend on the
 * gateway's rules (introspection off, say), so two gateways must not share them.
 */
export function createDocumentCache() {
  const documents = new TextKeyedCache<DocumentNode>();
  const errors = new TextKeyedCache<unknown>();
  const option: YogaServerOptions<object, object>['parserAndValidationCache'] = {
    documentCache: documents,
    errorCache: errors,
  };
  return {
    option,
    /** The parsed document of this text, if cached; Yoga's lookup counts the hit. */
    peek: (text: string) => documents.peek(text),
    /** What the caches hold. */
    stats: () => ({
      chars: documents.chars + errors.chars,
      maxChars: 2 * MAX_CHARS,
      maxDocument: MAX_CACHED_DOCUMENT,
      hits: documents.hits,
    }),
  };
}
