import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { config } from '../config';
import { prisma } from '../db/client';

/** Who is calling, as established from the request's credentials. */
export type Identity = Readonly<{
  /** With authentication on: a verified caller (user or admin). With it off: everyone. */
  authenticated: boolean;
  /** The verified user; null for anonymous callers, for an admin key, and whenever auth is off. */
  userId: number | null;
  /** The admin key (`X-Admin-API-Key`) or, with JWTs, a `role: "admin"` claim. */
  isAdmin: boolean;
  /** Why presented credentials were refused, for the 401 message. */
  failure: string | null;
  /** What to check again later (a long-lived subscription): the token's expiry, or the API key. */
  credential?: Readonly<{ expiresAt: number } | { apiKeyId: number }>;
}>;

export const authEnabled = config.auth.mode !== 'off';

const anonymous = (failure: string | null = null): Identity => ({
  authenticated: !authEnabled,
  userId: null,
  isAdmin: false,
  failure,
});
const ADMIN: Identity = { authenticated: true, userId: null, isAdmin: true, failure: null };

const sha256 = (value: string) => createHash('sha256').update(value).digest();

// Comparing digests keeps the comparison constant-time whatever the length of the given key.
function isAdminKey(given: string | null): boolean {
  if (config.adminApiKey === null || given === null) return false;
  return timingSafeEqual(sha256(given), sha256(config.adminApiKey));
}

/** JWT `sub` is a string by convention; ours must be a user ID. */
function userIdOf(sub: unknown): number | null {
  if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return null;
  const id = Number(sub);
  return id < 2 ** 31 ? id : null;
}

// Verifying keys: the HS256 secret, or the identity provider's key set (fetched and cached by jose).
const jwtKey: Uint8Array | JWTVerifyGetKey | null =
  config.auth.mode !== 'jwt'
    ? null
    : config.auth.secret
      ? new TextEncoder().encode(config.auth.secret)
      : createRemoteJWKSet(new URL(config.auth.jwksUrl as string));

async function fromJwt(header: string | null): Promise<Identity> {
  if (config.auth.mode !== 'jwt') return anonymous();
  const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return anonymous(header ? 'Authorization must be "Bearer <token>"' : null);
  const { secret, issuer, audience } = config.auth;
  try {
    const options = {
      issuer: issuer ?? undefined,
      audience: audience ?? undefined,
      algorithms: secret ? ['HS256'] : ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requiredClaims: ['exp'],
    };
    const { payload } =
      jwtKey instanceof Uint8Array
        ? await jwtVerify(token, jwtKey, options)
        : await jwtVerify(token, jwtKey as JWTVerifyGetKey, options);
    const isAdmin = payload.role === 'admin';
    const userId = userIdOf(payload.sub);
    if (userId === null && !isAdmin) return anonymous('The token’s sub claim must be a user ID');
    return {
      authenticated: true,
      userId,
      isAdmin,
      failure: null,
      credential: { expiresAt: (payload.exp as number) * 1000 },
    };
  } catch {
    return anonymous('Invalid or expired token');
  }
}

export const hashApiKey = (key: string) => sha256(key).toString('hex');

/** A new per-user key: shown once, stored only as its hash. */
export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = `cgk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 10) };
}

async function fromApiKey(key: string | null): Promise<Identity> {
  if (config.auth.mode !== 'api-key' || !key) return anonymous();
  const found = await prisma.apiKey.findUnique({
    where: { key_hash: hashApiKey(key) },
    select: { api_key_id: true, user_id: true, revoked_at: true },
  });
  if (!found || found.revoked_at) return anonymous('Invalid or revoked API key');
  return {
    authenticated: true,
    userId: found.user_id,
    isAdmin: false,
    failure: null,
    credential: { apiKeyId: found.api_key_id },
  };
}

/** Establishes the caller. The admin key counts in every mode; the rest depends on AUTH_MODE. */
export async function authenticate(request: Request): Promise<Identity> {
  if (isAdminKey(request.headers.get('x-admin-api-key'))) return ADMIN;
  if (config.auth.mode === 'jwt') return fromJwt(request.headers.get('authorization'));
  if (config.auth.mode === 'api-key') return fromApiKey(request.headers.get('x-api-key'));
  return anonymous();
}

export type ActingAs = { allowed: true; userId: number | null | undefined } | { allowed: false };

/**
 * The user a request acts as, from the `user_id` the client gave. With authentication off it is
 * the client's word, as the documented API has it. With it on, an admin may name anyone, and
 * anyone else acts as themself: naming another user is not allowed.
 */
export function actingAs(caller: Identity, given: number | null | undefined): ActingAs {
  if (!authEnabled || caller.isAdmin) return { allowed: true, userId: given };
  if (given != null && given !== caller.userId) return { allowed: false };
  return { allowed: true, userId: caller.userId };
}

/** Whether credentials accepted earlier still hold: the token has not expired, the key is not revoked. */
export async function stillValid(caller: Identity): Promise<boolean> {
  const credential = caller.credential;
  if (!credential) return true;
  if ('expiresAt' in credential) return Date.now() < credential.expiresAt;
  const key = await prisma.apiKey.findUnique({
    where: { api_key_id: credential.apiKeyId },
    select: { revoked_at: true },
  });
  return key !== null && key.revoked_at === null;
}
