/**
 * A map that keeps at most `max` entries and forgets the least recently used one first (a Map
 * iterates in insertion order, so a hit moves its key to the end).
 */
export class Lru<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value as K);
    this.#entries.set(key, value);
  }
}
