import prices from '../../../src/modules/usage/prices.json';
import {
  costOf,
  loadPriceTable,
  normalizeModelName,
  priceOf,
  readPriceTable,
} from '../../../src/modules/usage/pricing';
import { countTokens, encodingFor } from '../../../src/modules/usage/tokens';

const bundled = readPriceTable(null);

describe('price table', () => {
  it('prices gpt-3.5-turbo at $0.50 in and $1.50 out per 1M tokens', () => {
    expect(priceOf(bundled, 'gpt-3.5-turbo')).toMatchObject({ provider: 'openai', input: 0.5, output: 1.5 });
    expect(costOf(priceOf(bundled, 'gpt-3.5-turbo')!, { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 })).toBe(
      2,
    );
  });

  it('has lines from OpenAI, Anthropic, Google and Groq, each with a positive price, a date and a source', () => {
    const providers = new Set(prices.models.map((m) => m.provider));
    expect([...providers].sort()).toEqual(['anthropic', 'google', 'groq', 'openai']);
    for (const m of prices.models) {
      expect([m.model, m.input > 0 && m.output > 0]).toEqual([m.model, true]);
      expect(m.effective_from).toMatch(/^\d{4}-\d\d-\d\d$/);
      expect(m.source).toMatch(/^https:\/\//);
    }
    expect(() => loadPriceTable(prices)).not.toThrow();
  });

  it('prices a call with the entry in force at its time', () => {
    expect(priceOf(bundled, 'gpt-4o', new Date('2024-06-01'))).toMatchObject({ input: 5, output: 15 });
    expect(priceOf(bundled, 'gpt-4o', new Date('2025-01-01'))).toMatchObject({ input: 2.5, output: 10 });
    expect(priceOf(bundled, 'gpt-4o', new Date('2024-01-01'))).toBeUndefined();
  });

  it('matches exactly after normalising case and provider prefix, never by substring', () => {
    expect(normalizeModelName(' OpenAI/GPT-4o ')).toBe('gpt-4o');
    expect(priceOf(bundled, 'openai/gpt-4o-mini')?.model).toBe('gpt-4o-mini');
    expect(priceOf(bundled, 'gpt-4o-mini-2099')).toBeUndefined();
    expect(priceOf(bundled, 'gpt')).toBeUndefined();
    expect(priceOf(bundled, 'my-gpt-4o')).toBeUndefined();
  });

  it('charges cached prompt tokens at the cached price where there is one', () => {
    const gpt4o = priceOf(bundled, 'gpt-4o')!;
    const tokens = { prompt_tokens: 1000, completion_tokens: 100, cached_prompt_tokens: 400 };
    expect(costOf(gpt4o, tokens)).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6, 12);
    const noCache = priceOf(bundled, 'gpt-3.5-turbo')!;
    expect(costOf(noCache, tokens)).toBeCloseTo((1000 * 0.5 + 100 * 1.5) / 1e6, 12);
  });
});

describe('token counting', () => {
  it('uses the model family’s encoding', async () => {
    expect(encodingFor('gpt-4o')).toBe('o200k_base');
    expect(encodingFor('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(await countTokens('hello world', 'gpt-3.5-turbo')).toBe(2);
    expect(await countTokens('This is a test response', 'gpt-4o')).toBe(5);
  });
});
