import { randomBytes } from 'node:crypto';
import type { Context } from '../../graphql/context';

/** 32 random bytes, base64url: 43 characters, 256 bits that no one can guess or count through. */
export const newToken = () => randomBytes(32).toString('base64url');

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

const first = (value: string | null | undefined) => value?.split(',')[0]?.trim() || undefined;

/**
 * Where this request reached us, for a link made without PUBLIC_URL: the Host header (the
 * forwarded one only behind a trusted proxy), checked to be a host name, else the request's URL.
 */
function requestOrigin(ctx: Context): string {
  const request = (ctx as { request?: Request }).request;
  const url = new URL(request?.url ?? 'http://localhost/');
  const headers = request?.headers;
  const forwarded = ctx.config.trustProxy;
  const host = (forwarded && first(headers?.get('x-forwarded-host'))) || headers?.get('host') || undefined;
  const proto = forwarded ? first(headers?.get('x-forwarded-proto'))?.toLowerCase() : undefined;
  const scheme = proto === 'http' || proto === 'https' ? proto : url.protocol.slice(0, -1);
  return `${scheme}://${host && HOST.test(host) ? host : url.host}`;
}

/** The public address of a share link: `<PUBLIC_URL or the request's origin>/shared/<token>`. */
export const shareUrl = (ctx: Context, token: string) =>
  `${ctx.config.publicUrl ?? requestOrigin(ctx)}/shared/${token}`;

export type SnapshotMessage = { sender: string; content: string; timestamp: string };

/** A stored snapshot, as written by create_share; anything else reads as no messages. */
export function readSnapshot(json: string): SnapshotMessage[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? (parsed as SnapshotMessage[]) : [];
  } catch {
    return [];
  }
}
