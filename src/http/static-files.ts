import { createHash } from 'node:crypto';
import { COMPRESS_MIN_BYTES, chooseEncoding, compress, type Encoding, isCompressible } from './compression';

/*
 * Files served from this process (GraphiQL's and Swagger UI's scripts and styles): read once, on
 * first request; validated by an ETag (a conditional request is a 304 with no body); compressed
 * once per encoding and kept, rather than on every request as answers are.
 */

export type StaticFile = {
  contentType: string;
  /** Reads the file's bytes (called once, on first request). */
  load: () => string | Buffer<ArrayBuffer>;
};

export type StaticFiles = {
  /** The answer for `name`, or undefined when no such file is served. */
  respond(request: Request, name: string): Promise<Response> | undefined;
};

type Loaded = {
  body: Buffer<ArrayBuffer>;
  etag: string;
  encoded: Map<Encoding, Promise<Buffer<ArrayBuffer>>>;
};

/** Whether an If-None-Match header lists `etag` (weak comparison, RFC 9110 §13.1.2), or is `*`. */
export function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => opaque(tag) === opaque(etag));
}

/**
 * Serves `files` by name. `cacheControl` applies to every answer: versioned paths can say
 * `immutable`; others should let clients revalidate with the ETag.
 */
export function createStaticFiles(files: ReadonlyMap<string, StaticFile>, cacheControl: string): StaticFiles {
  const loaded = new Map<string, Loaded>();
  const load = (name: string, file: StaticFile): Loaded => {
    let entry = loaded.get(name);
    if (!entry) {
      const content = file.load();
      const body = typeof content === 'string' ? Buffer.from(content) : content;
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      entry = { body, etag, encoded: new Map() };
      loaded.set(name, entry);
    }
    return entry;
  };

  return {
    respond(request, name) {
      const file = files.get(name);
      if (!file) return undefined;
      return (async () => {
        const entry = load(name, file);
        const compressible = isCompressible(file.contentType) && entry.body.byteLength >= COMPRESS_MIN_BYTES;
        const encoding = compressible ? chooseEncoding(request.headers.get('accept-encoding')) : null;
        // Each encoding is its own representation, with its own validator.
        const etag = encoding ? `${entry.etag.slice(0, -1)}-${encoding}"` : entry.etag;
        const headers: Record<string, string> = { etag, 'cache-control': cacheControl };
        if (compressible) headers.vary = 'Accept-Encoding';
        if (matchesEtag(request.headers.get('if-none-match'), etag)) {
          return new Response(null, { status: 304, headers });
        }
        headers['content-type'] = file.contentType;
        if (!encoding) return new Response(entry.body, { headers });
        let encoded = entry.encoded.get(encoding);
        if (!encoded) {
          encoded = compress(encoding, entry.body, 'static');
          entry.encoded.set(encoding, encoded);
        }
        const body = await encoded;
        headers['content-encoding'] = encoding;
        headers['content-length'] = String(body.byteLength);
        return new Response(body, { headers });
      })();
    },
  };
}
