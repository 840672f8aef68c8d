import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';

/* Settings the test files build their gateways with (configureGateway), named for what they test. */

export const JWT_SECRET = 'a-test-secret-that-is-at-least-32-characters-long';
export const JWT_AUTH = { AUTH_MODE: 'jwt', JWT_SECRET };

/** An Authorization header with a token signed by JWT_SECRET, valid for 5 minutes, for `sub` if given. */
export async function bearerHeader(claims: Record<string, unknown>, sub?: string): Promise<Record<string, string>> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m');
  if (sub) jwt.setSubject(sub);
  return { authorization: `Bearer ${await jwt.sign(new TextEncoder().encode(JWT_SECRET))}` };
}

/** The callers a JWT_AUTH gateway tells apart, each with its headers: `owner` and `other` are user IDs. */
export async function jwtCallers(owner: number, other: number): Promise<[string, Record<string, string>][]> {
  return [
    ['anonymous', {}],
    ['owner', await bearerHeader({}, String(owner))],
    ['other', await bearerHeader({}, String(other))],
    ['admin', await bearerHeader({ role: 'admin' })],
    ['admin who is a user', await bearerHeader({ role: 'admin' }, String(other))],
    ['bad token', { authorization: 'Bearer not.a.jwt' }],
  ];
}
export const API_KEY_AUTH = { AUTH_MODE: 'api-key' };
export const DEBUG_ROUTES_OFF = { ENABLE_DEBUG_ROUTES: 'false' };
export const SHORT_DEADLINE = { REQUEST_DEADLINE_MS: '500' };
export const PATCHES_OFF = { PRISMA_PATCHES: 'off' };
export const RATE_LIMITED = { RATE_LIMIT_PER_MINUTE: '5' };
export const SMALL_READS = { MAX_MESSAGES_PER_READ: '5' };

/** Small limits, so the tests can reach them. */
export const SMALL_LIMITS = {
  GRAPHQL_MAX_DEPTH: '5',
  ENABLE_INTROSPECTION: 'false',
  ENABLE_GRAPHIQL: 'false',
  MAX_BODY_BYTES: '2048',
  CORS_ORIGINS: 'https://app.example.com',
};

/** A price table of one house model, whose price changes in 2031. */
export function housePricesFile(): { PRICES_FILE: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prices-')), 'prices.json');
  const source = 'https://example.com/pricing';
  const price = { model: 'house-model', provider: 'house', unit: '1M', source };
  fs.writeFileSync(
    file,
    JSON.stringify({
      version: 'test',
      models: [
        { ...price, input: 1, output: 2, effective_from: '2026-01-01' },
        // A price change in the future of the first records.
        { ...price, input: 10, output: 20, effective_from: '2031-01-01' },
      ],
    }),
  );
  return { PRICES_FILE: file };
}
