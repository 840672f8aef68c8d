import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

/*
 * Response compression: brotli or gzip, as the client's Accept-Encoding prefers, for text answers
 * of at least COMPRESS_MIN_BYTES. Smaller answers are sent as they are: below about one TCP packet
 * compression saves nothing on the wire and costs CPU on both ends. Live-update streams
 * (text/event-stream, multipart/mixed) are never compressed: a compressor buffers, and an event
 * must reach the client when it happens.
 */

export const COMPRESS_MIN_BYTES = 1024;

export type Encoding = 'br' | 'gzip';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * For answers computed per request, brotli's quality 4 compresses JSON about as well as gzip's
 * default in less time. Files compressed once and kept (static-files.ts) get quality 5: GraphiQL's
 * 5.3 MB bundle becomes 1.29 MB in 0.5 s here; quality 9 saves 4% more in 1.3 s, and 11 takes 20 s.
 */
const DYNAMIC_BROTLI = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } };

/** Compresses `body` with `encoding`; `quality` 'static' spends more time for smaller files served often. */
export async function compress(
  encoding: Encoding,
  body: Uint8Array,
  quality: 'dynamic' | 'static' = 'dynamic',
): Promise<Buffer<ArrayBuffer>> {
  // zlib's results own plain ArrayBuffers (never shared memory), which is what BodyInit takes.
  if (encoding === 'gzip') return (await gzip(body, { level: quality === 'static' ? 9 : 6 })) as Buffer<ArrayBuffer>;
  return (await brotli(
    body,
    quality === 'static'
      ? { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }
      : DYNAMIC_BROTLI,
  )) as Buffer<ArrayBuffer>;
}

/**
 * The encoding to answer in, from an Accept-Encoding header (RFC 9110 §12.5.3): the one with the
 * highest q-value among those we produce, brotli on a tie; `*` stands for any encoding not named;
 * `q=0` refuses. Null: answer unencoded.
 */
export function chooseEncoding(acceptEncoding: string | null | undefined): Encoding | null {
  if (!acceptEncoding) return null;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param);
      if (match) q = Number(match[1]);
    }
    if (Number.isFinite(q)) weights.set(name.trim(), q);
  }
  const weight = (encoding: Encoding) => weights.get(encoding) ?? weights.get('*') ?? 0;
  const br = weight('br');
  const gz = weight('gzip');
  if (br <= 0 && gz <= 0) return null;
  return br >= gz ? 'br' : 'gzip';
}

const COMPRESSIBLE =
  /^(text\/(?!event-stream)|application\/(json|graphql-response\+json|javascript|xml|[\w.+-]*\+json)|image\/svg\+xml)/i;

/** Whether answers of this Content-Type are worth compressing (text; not images or live streams). */
export function isCompressible(contentType: string | null | undefined): boolean {
  return !!contentType && COMPRESSIBLE.test(contentType);
}

/** Adds Accept-Encoding to a Vary header value, so that caches keep the encodings apart. */
export function varyOnEncoding(vary: string | null | undefined): string {
  if (!vary) return 'Accept-Encoding';
  if (vary.split(',').some((name) => ['accept-encoding', '*'].includes(name.trim().toLowerCase()))) return vary;
  return `${vary}, Accept-Encoding`;
}

/**
 * Compresses the answers that qualify (see above) for the outer server adapter
 * (http/errors-guard.ts), after every other plugin has set its headers. Answers that already carry
 * a Content-Encoding (pre-compressed static files) pass through.
 */
export function useCompression(): Plugin {
  return {
    async onResponse({ request, response, setResponse }) {
      const type = response.headers.get('content-type');
      if (!response.body || !isCompressible(type) || response.headers.has('content-encoding')) return;
      // A streamed download (GET /usage/export) asks to go as it is: compressing would buffer it whole.
      if (/\bno-transform\b/i.test(response.headers.get('cache-control') ?? '')) return;
      if (response.status === 204 || response.status === 206 || response.status === 304) return;
      response.headers.set('vary', varyOnEncoding(response.headers.get('vary')));
      const encoding = chooseEncoding(request.headers.get('accept-encoding'));
      if (!encoding) return;
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      if (length < COMPRESS_MIN_BYTES) return;
      const body = new Uint8Array(await response.arrayBuffer());
      if (body.byteLength < COMPRESS_MIN_BYTES) {
        setResponse(new Response(body, { status: response.status, headers: response.headers }));
        return;
      }
      let compressed: Buffer<ArrayBuffer>;
      try {
        compressed = await compress(encoding, body);
      } catch {
        // Compression is an optimisation: should it ever fail, the answer goes as it is.
        setResponse(new Response(body, { status: response.status, headers: response.headers }));
        return;
      }
      const headers = new Headers(response.headers);
      headers.set('content-encoding', encoding);
      headers.set('content-length', String(compressed.byteLength));
      // A strong validator names one representation; the encoded one is another (RFC 9110 §8.8.1).
      const etag = headers.get('etag');
      if (etag && !etag.startsWith('W/')) headers.set('etag', `W/${etag}`);
      setResponse(new Response(compressed, { status: response.status, headers }));
    },
  };
}
