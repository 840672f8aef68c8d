import type { ArgBuilder } from '@pothos/core';
import { z } from 'zod';
import type { BuilderTypes } from './builder';
import { listOf } from './complexity';

/** A page size from 1 to `max`. */
export const limitUpTo = (max: number) =>
  z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`);

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

/** `limit`/`offset` as the REST API documents them: limit 1..100 (default 10), offset from 0. */
export const limitSchema = limitUpTo(MAX_LIMIT);
export const offsetSchema = z.number().int().min(0, 'must not be negative');

/** The complexity of a list paged by `pageArgs`: as many items as its limit. */
export const pageComplexity = listOf((args: { limit?: number | null }) => args.limit, DEFAULT_LIMIT, MAX_LIMIT);

/** The `limit` and `offset` arguments of a list. */
export function pageArgs(arg: ArgBuilder<PothosSchemaTypes.ExtendDefaultTypes<BuilderTypes>>, things: string) {
  return {
    limit: arg.int({
      defaultValue: DEFAULT_LIMIT,
      description: `How many ${things}, 1 to 100.`,
      validate: limitSchema,
    }),
    offset: arg.int({ defaultValue: 0, description: `How many ${things} to skip.`, validate: offsetSchema }),
  };
}

/** Characters as the databases count them (code points), not UTF-16 units: an emoji is one. */
export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/**
 * Text as stored. A lone UTF-16 surrogate is no text at all, and PostgreSQL cannot hold the NUL
 * character, so both are refused on every database alike rather than failing deep down.
 */
export function textSchema(max: number | null, { allowEmpty = false } = {}) {
  const text = z
    .string()
    .refine((s) => s.isWellFormed(), 'must be valid Unicode text')
    .refine((s) => !s.includes('\u0000'), 'must not contain the NUL character')
    .refine((s) => allowEmpty || s.trim().length > 0, 'must not be empty');
  // null: the length is each gateway's setting, checked by the resolver (counted once, not twice).
  return max === null ? text : text.refine((s) => codePoints(s) <= max, `must be at most ${max} characters`);
}
