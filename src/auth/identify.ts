import { timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Config } from '../config';
import type { Db } from '../db/client';
import { hashApiKey, sha256 } from './keys';

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

/** The server context of a request (Node's request on a real server; `{}` under `yoga.fetch`). */
export type ServerContext = { req?: { socket?: { remoteAddress?: string } } };

/** A gateway's authentication: AUTH_MODE, the admin key and the verifying keys, from its config. */
export type Auth = Readonly<{
  /** Whether callers must identify themselves (AUTH_MODE is not `off`). */
  enabled: boolean;
  mode: Config['auth']['mode'];
  /**
   * The caller of a request, established once: the rate limiter and the context both ask, and
   * the second gets the first's answer (kept on the request's server context, which Yoga builds
   * the GraphQL context from, for REST calls too).
   */
  identify(request: Request, serverContext: object): Promise<Identity>;
  /** Whom a request counts against, for rate limits and stream caps: a verified caller, else its address. */
  callerKey(caller: Identity, request: Request, serverContext: object): string;
  /** Whether credentials accepted earlier still hold: the token has not expired, the key is not revoked. */
  stillValid(caller: Identity): Promise<boolean>;
}>;

/** JWT `sub` is a string by convention; ours must be a user ID. */
function userIdOf(sub: unknown): number | null {
  if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return null;
  const id = Number(sub);
  return id < 2 ** 31 ? id : null;
}

export function createAuth(config: Config, db: Db): Auth {
  const { auth } = config;
  // Each gateway keeps its answer under its own key: two gateways never read each other's.
  const IDENTITY = Symbol('identity');
  const enabled = auth.mode !== 'off';
  const anonymous = (failure: string | null = null): Identity => ({
    authenticated: !enabled,
    userId: null,
    isAdmin: false,
    failure,
  });
  const ADMIN: Identity = { authenticated: true, userId: null, isAdmin: true, failure: null };
  const adminKey = config.adminApiKey === null ? null : sha256(config.adminApiKey);

  // Comparing digests keeps the comparison constant-time whatever the length of the given key.
  const isAdminKey = (given: string | null) =>
    adminKey !== null && given !== null && timingSafeEqual(sha256(given), adminKey);

  // Verifying keys: the HS256 secret, or the identity provider's key set (fetched and cached by jose).
  const jwtKey: Uint8Array | JWTVerifyGetKey | null =
    auth.mode !== 'jwt'
      ? null
      : auth.secret
        ? new TextEncoder().encode(auth.secret)
        : createRemoteJWKSet(new URL(auth.jwksUrl as string));

  async function fromJwt(header: string | null): Promise<Identity> {
    if (auth.mode !== 'jwt') return anonymous();
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return anonymous(header ? 'Authorization must be "Bearer <token>"' : null);
    const { secret, issuer, audience } = auth;
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

  async function fromApiKey(key: string | null): Promise<Identity> {
    if (auth.mode !== 'api-key' || !key) return anonymous();
    const found = await db.apiKey.findUnique({
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

  /** The admin key counts in every mode; the rest depends on AUTH_MODE. */
  async function authenticate(request: Request): Promise<Identity> {
    if (isAdminKey(request.headers.get('x-admin-api-key'))) return ADMIN;
    if (auth.mode === 'jwt') return fromJwt(request.headers.get('authorization'));
    if (auth.mode === 'api-key') return fromApiKey(request.headers.get('x-api-key'));
    return anonymous();
  }

  function clientAddress(request: Request, serverContext: ServerContext) {
    if (config.trustProxy) {
      // Capped: the header is the client's to write, and the address becomes a key kept in memory.
      const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim().slice(0, 64);
      if (forwarded) return forwarded;
    }
    return serverContext.req?.socket?.remoteAddress ?? 'unknown';
  }

  return {
    enabled,
    mode: auth.mode,
    identify(request, serverContext) {
      const memo = serverContext as { [IDENTITY]?: Promise<Identity> };
      memo[IDENTITY] ??= authenticate(request);
      return memo[IDENTITY];
    },
    callerKey(caller, request, serverContext) {
      if (caller.isAdmin) return 'admin';
      if (caller.userId !== null) return `user:${caller.userId}`;
      return `ip:${clientAddress(request, serverContext as ServerContext)}`;
    },
    async stillValid(caller) {
      const credential = caller.credential;
      if (!credential) return true;
      if ('expiresAt' in credential) return Date.now() < credential.expiresAt;
      const key = await db.apiKey.findUnique({
        where: { api_key_id: credential.apiKeyId },
        select: { revoked_at: true },
      });
      return key !== null && key.revoked_at === null;
    },
  };
}
