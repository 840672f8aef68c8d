import fs from 'node:fs';
import { z } from 'zod';
import bundled from './prices.json';

const entrySchema = z.object({
  model: z.string().min(1),
  provider: z.string().min(1),
  unit: z.enum(['1M', '1K']),
  input: z.number().nonnegative(),
  cached_input: z.number().nonnegative().optional(),
  output: z.number().nonnegative(),
  effective_from: z.iso.date(),
  source: z.string().url(),
  note: z.string().optional(),
});
const tableSchema = z.object({ version: z.string(), note: z.string().optional(), models: z.array(entrySchema) });

/** A model's price from some date on, in USD per 1M tokens whatever unit the table used. */
export type Price = Readonly<{
  model: string;
  provider: string;
  input: number;
  cached_input: number | null;
  output: number;
  effective_from: Date;
}>;

const PER_MILLION = { '1M': 1, '1K': 1000 } as const;

const PROVIDER_PREFIX = /^(openai|anthropic|google|gemini|groq|models)\//;

/**
 * Matches exactly after normalisation (case, a provider prefix such as `openai/`), never by
 * substring: "gpt-4o-mini" must not be priced as "gpt-4o".
 */
export function normalizeModelName(name: string): string {
  return name.trim().toLowerCase().replace(PROVIDER_PREFIX, '');
}

/** The table's entries by normalised model name, newest first. */
/** Prices by normalised model name, newest first. */
export type PriceTable = ReadonlyMap<string, readonly Price[]>;

export function loadPriceTable(json: unknown): Map<string, Price[]> {
  const table = tableSchema.parse(json);
  const byModel = new Map<string, Price[]>();
  for (const e of table.models) {
    const k = PER_MILLION[e.unit];
    const price: Price = Object.freeze({
      model: normalizeModelName(e.model),
      provider: e.provider,
      input: round(e.input * k),
      cached_input: e.cached_input === undefined ? null : round(e.cached_input * k),
      output: round(e.output * k),
      effective_from: new Date(`${e.effective_from}T00:00:00Z`),
    });
    byModel.set(price.model, [...(byModel.get(price.model) ?? []), price]);
  }
  for (const prices of byModel.values()) prices.sort((a, b) => b.effective_from.getTime() - a.effective_from.getTime());
  return byModel;
}

/** A gateway's prices: PRICES_FILE lets an operator price with their own (negotiated) table; by default the bundled one. */
export function readPriceTable(pricesFile: string | null): PriceTable {
  return loadPriceTable(pricesFile ? JSON.parse(fs.readFileSync(pricesFile, 'utf8')) : bundled);
}

/** The price in force for a model at a time, or undefined when the table does not know it. */
export function priceOf(prices: PriceTable, modelName: string, at: Date = new Date()): Price | undefined {
  return prices.get(normalizeModelName(modelName))?.find((p) => p.effective_from.getTime() <= at.getTime());
}

export type TokenCounts = { prompt_tokens: number; completion_tokens: number; cached_prompt_tokens?: number };

/** Cost in USD; cached prompt tokens at the cached price where the model has one. */
export function costOf(price: Price, tokens: TokenCounts): number {
  const cached = Math.min(tokens.cached_prompt_tokens ?? 0, tokens.prompt_tokens);
  return round(
    ((tokens.prompt_tokens - cached) * price.input +
      cached * (price.cached_input ?? price.input) +
      tokens.completion_tokens * price.output) /
      1_000_000,
  );
}

// Float noise (0.1 + 0.2) would otherwise show up in sums and JSON; a billionth of a cent is plenty.
function round(usd: number): number {
  return Math.round(usd * 1e11) / 1e11;
}
