import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../graphql/errors';

/** Why a body was refused; each surface turns the reason into its own code (see `codeOf`). */
export type BodyProblem = 'too-large' | 'media-type' | 'unreadable' | 'not-utf8' | 'not-json' | 'not-object';

export class BodyError extends Error {
  constructor(
    readonly problem: BodyProblem,
    message: string,
  ) {
    super(message);
  }
}

const tooLarge = () => new BodyError('too-large', 'Request body too large');

/**
 * A refused body may still be arriving: the answer tells the client to stop and Node's server to
 * close the connection once it is sent, instead of keeping it for bytes nobody will read.
 */
export const CLOSE = { connection: 'close' } as const;

/** The media type of the request (`type/subtype`, lower case, no parameters); null when absent. */
export function mediaTypeOf(request: Request): string | null {
  const header = request.headers.get('content-type');
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type ? type : null;
}

/** Whether the request announces a body (a non-zero Content-Length, or a Transfer-Encoding). */
export function announcesBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  if (length !== null) return length.trim() !== '0';
  return request.headers.has('transfer-encoding');
}

/**
 * The body's bytes, counted as they stream in and refused as soon as they pass `limit`, so a
 * chunked body (no Content-Length) is never held beyond the limit. On refusal the stream is left
 * unread rather than cancelled: cancelling a Node request destroys its socket, and the client
 * would get a reset instead of the 413.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch {
      // The client went away or broke the framing mid-body.
      throw new BodyError('unreadable', 'The request body could not be read');
    }
    if (step.done) break;
    size += step.value.byteLength;
    if (size > limit) throw tooLarge();
    chunks.push(step.value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, size);
}

/** Reads a request's body up to a limit (its bytes, or a BodyError), whichever HTTP layer holds it. */
export type BodyReader = (limit: number) => Promise<Uint8Array>;

/**
 * readBody for a body still in Node's IncomingMessage (the REST fast path, rest/node-path.ts):
 * the same limit, refusals and errors, without wrapping the stream as a web stream for a fetch
 * Request, which cost about 5% of a write's CPU. On refusal the rest is left unread, as above.
 */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: BodyError | null) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onFailure);
      req.off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) return stop(tooLarge());
      chunks.push(chunk);
    };
    const onEnd = () => stop(null);
    // The client went away or broke the framing mid-body.
    const onFailure = () => stop(new BodyError('unreadable', 'The request body could not be read'));
    const onClose = () => {
      if (!req.complete) onFailure();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onFailure);
    req.on('close', onClose);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text; invalid UTF-8 is refused rather than turned into U+FFFD and stored. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BodyError('not-utf8', 'The request body is not valid UTF-8');
  }
}

/** A JSON object from the body's text; whitespace only counts as `{}` when `emptyIsObject`. */
export function parseJsonObject(text: string, emptyIsObject: boolean): Record<string, unknown> {
  if (emptyIsObject && text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BodyError('not-json', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BodyError('not-object', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * REST answers every input problem 422, as it does for bad values. /graphql follows GraphQL over
 * HTTP: a body that cannot be read as a JSON object is a malformed request, 400 BAD_REQUEST (as
 * Yoga answers invalid JSON).
 */
export function codeOf(problem: BodyProblem, surface: 'rest' | 'graphql'): ErrorCode {
  switch (problem) {
    case 'too-large':
      return 'PAYLOAD_TOO_LARGE';
    case 'media-type':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'unreadable':
      return 'BAD_REQUEST';
    default:
      return surface === 'rest' ? 'BAD_USER_INPUT' : 'BAD_REQUEST';
  }
}
