import { gateway } from '../support/gateway';
import { gql } from '../support/http';

// Yoga keeps the syntax tree of every document it parses, keyed by the document's text, and the
// tree takes about 50 times the text: by default 1,024 documents of any size, so a few hundred
// distinct 1 MB queries held gigabytes. The cache is now weighed by the text it holds.
describe('the parsed-document cache', () => {
  it('holds a bounded amount of text whatever the documents clients send', async () => {
    const padding = 'x'.repeat(2000);
    for (let i = 0; i < 300; i++) {
      const r = await gql(`{ chats(limit: 1) { chat_id } } # ${i} ${padding}`);
      expect(r.json.errors).toBeUndefined();
    }
    const stats = gateway().documentCacheStats();
    expect(stats.chars).toBeGreaterThan(0);
    expect(stats.chars).toBeLessThanOrEqual(stats.maxChars);
    expect(300 * padding.length).toBeGreaterThan(stats.maxChars);
  });

  it('does not keep a document larger than its share, valid or not', async () => {
    const before = gateway().documentCacheStats().chars;
    const big = `# ${'x'.repeat(gateway().documentCacheStats().maxDocument)}\n`;
    expect((await gql(`${big}{ chats(limit: 1) { chat_id } }`)).json.errors).toBeUndefined();
    expect((await gql(`${big}{ chats(limit: 1) { chat_id `)).json.errors[0].message).toMatch(/Syntax Error/);
    expect(gateway().documentCacheStats().chars).toBe(before);
  });

  it('still serves a repeated document from the cache', async () => {
    const query = '{ chats(limit: 2) { chat_id title } }';
    await gql(query);
    const before = gateway().documentCacheStats();
    await gql(query);
    expect(gateway().documentCacheStats().hits).toBe(before.hits + 1);
  });
});
