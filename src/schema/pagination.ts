import { z } from 'zod';

/** `limit`/`offset` as the REST API documents them: limit 1..100 (default 10), offset from 0. */
export const limitSchema = z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100');
export const offsetSchema = z.number().int().min(0, 'must not be negative');

export const DEFAULT_LIMIT = 10;
