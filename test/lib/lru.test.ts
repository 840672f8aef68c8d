import { Lru } from '../../src/lib/lru';

describe('Lru', () => {
  it('keeps at most max entries and forgets the least recently used first', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // now b is the least recently used
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([1, undefined, 3]);
    lru.set('c', 4); // replacing a key evicts nothing
    expect([lru.get('a'), lru.get('c')]).toEqual([1, 4]);
  });
});
