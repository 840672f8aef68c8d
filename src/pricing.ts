import prices from './prices.json';

export type Price = Readonly<{
  model: string;
  provider: string;
  /** USD per 1M prompt tokens. */
  input: number;
  /** USD per 1M prompt tokens served from the provider's cache, where the model has such a price. */
  cached_input?: number;
  /** USD per 1M completion tokens. */
  output: number;
  as_of: string;
}>;

const table = new Map<string, Price>(
  Object.entries(prices.models).map(([model, price]) => [model, Object.freeze({ model, ...price })]),
);

const PROVIDER_PREFIX = /^(openai|anthropic|google|gemini|groq|models)\//;

/**
 * Matches exactly after normalisation (case, a provider prefix such as `openai/`), never by
 * substring: "gpt-4o-mini" must not be priced as "gpt-4o".
 */
export function normalizeModelName(name: string): string {
  return name.trim().toLowerCase().replace(PROVIDER_PREFIX, '');
}

/** The price of a model, or undefined when the table does not know it. */
export function priceOf(modelName: string): Price | undefined {
  return table.get(normalizeModelName(modelName));
}

export type TokenCounts = { prompt_tokens: number; completion_tokens: number; cached_prompt_tokens?: number };

/** Cost in USD; cached prompt tokens at the cached price where the model has one. */
export function costOf(price: Price, tokens: TokenCounts): number {
  const cached = Math.min(tokens.cached_prompt_tokens ?? 0, tokens.prompt_tokens);
  const usd =
    ((tokens.prompt_tokens - cached) * price.input +
      cached * (price.cached_input ?? price.input) +
      tokens.completion_tokens * price.output) /
    1_000_000;
  // Float noise (0.1 + 0.2) would otherwise show up in sums and JSON; a billionth of a cent is plenty.
  return Math.round(usd * 1e11) / 1e11;
}
