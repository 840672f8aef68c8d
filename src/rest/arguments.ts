import { type GraphQLArgument, getNamedType, isEnumType, isListType, isNonNullType } from 'graphql';
import { announcesBody, BodyError, type BodyReader, decodeUtf8, mediaTypeOf, parseJsonObject } from '../http/body';
import { strictQuery } from '../http/query';
import type { CompiledRoute } from './compile';

/*
 * A REST request's arguments, read from where its route documents them (path, query string or
 * JSON body) and checked strictly against the GraphQL types before the route's operation runs.
 */

/** Bad input in the path, query string or body: a 422 naming the argument. */
export class InputError extends Error {}

/** GraphQL's Int is 32-bit signed. */
export const INT32 = 2 ** 31;

/**
 * Checks one value against the argument's GraphQL type, strictly (`"content": 123` is not text),
 * with a 422 that names the argument. Values from the URL are strings by nature.
 */
function coerce(arg: GraphQLArgument, value: unknown, fromUrl: boolean): unknown {
  if (isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type)) {
    // In a URL a list is comma-separated (`group_by=MODEL,DAY`) or repeated; in a body, an array.
    const items = fromUrl ? String(value).split(',').filter(Boolean) : value;
    if (!Array.isArray(items)) throw new InputError(`${arg.name}: must be a list`);
    const item = { ...arg, type: getNamedType(arg.type) } as GraphQLArgument;
    return items.map((v) => coerce(item, v, fromUrl));
  }
  const type = getNamedType(arg.type);
  const fail = (expected: string) => new InputError(`${arg.name}: ${expected}`);
  if (isEnumType(type)) {
    const allowed = type.getValues().map((v) => v.name);
    if (typeof value !== 'string' || !allowed.includes(value)) throw fail(`must be one of ${allowed.join(', ')}`);
    return value;
  }
  switch (type.name) {
    case 'Int': {
      const n = fromUrl && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw fail('must be an integer');
      if (n < -INT32 || n >= INT32) throw fail('is out of range');
      return n;
    }
    case 'Float': {
      const n = fromUrl && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw fail('must be a number');
      return n;
    }
    case 'Boolean': {
      if (fromUrl && (value === 'true' || value === 'false')) return value === 'true';
      if (typeof value !== 'boolean') throw fail('must be true or false');
      return value;
    }
    case 'String': {
      if (typeof value !== 'string') throw fail('must be a string');
      // A lone UTF-16 surrogate ("\ud800") is valid JSON but no text any database can store.
      if (!value.isWellFormed()) throw fail('must be valid Unicode text');
      return value;
    }
    default:
      throw fail('is not supported over REST');
  }
}

/**
 * A JSON object from the body, cut at MAX_BODY_BYTES while it streams in. A body is JSON or
 * nothing: forms and text/plain are what other sites can POST without a CORS preflight. An
 * empty body is `{}`, so bodiless POSTs (`POST /chats/`) work without a Content-Type.
 */
async function readJsonBody(
  request: Request,
  readBytes: BodyReader,
  maxBodyBytes: number,
): Promise<Record<string, unknown>> {
  const bytes = await readBytes(maxBodyBytes);
  if (bytes.length > 0 && mediaTypeOf(request) === null) throw unsupportedMediaType();
  return parseJsonObject(decodeUtf8(bytes), true);
}

const unsupportedMediaType = () => new BodyError('media-type', 'Content-Type must be application/json');

/**
 * Before anything is read: no Content-Type is fine only without a body, and any type but JSON is
 * refused where a body is read or sent (an empty text/plain POST is still a cross-site form).
 */
export function checkMediaType(route: CompiledRoute, request: Request) {
  const type = mediaTypeOf(request);
  if (type === 'application/json') return;
  if (type === null ? announcesBody(request) : route.hasBody || announcesBody(request)) throw unsupportedMediaType();
}

function decodePathSegment(arg: GraphQLArgument, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InputError(`${arg.name}: is not a valid URL path segment`);
  }
}

function queryValue(arg: GraphQLArgument, query: Query): string | undefined {
  const values = query.filter(([key]) => key === arg.name).map(([, value]) => value);
  const isList = isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type);
  if (isList && values.length > 0) return values.join(',');
  if (values.length > 1) throw new InputError(`${arg.name}: is given more than once`);
  for (const [key] of query) {
    if (key.startsWith(`${arg.name}[`)) throw new InputError(`${arg.name}: must be a single value`);
  }
  return values[0];
}

export type Query = ReadonlyArray<[string, string]>;

/** The query string, refused (422) when a percent-encoded value is not UTF-8 rather than read as U+FFFD. */
export function readQuery(url: URL): Query {
  if (url.search === '') return [];
  try {
    return strictQuery(url.search);
  } catch {
    throw new InputError('The query string is not valid UTF-8 once percent-decoded');
  }
}

/**
 * Each argument from where the route documents it (path, query string or body): the operation's
 * variables. JSON nulls count as absent, so the argument's default applies, except for the body
 * fields a route lists in `clearedByNull`, where null is a value ("no parent folder").
 */
export async function readArguments(
  route: CompiledRoute,
  request: Request,
  readBytes: BodyReader,
  query: Query,
  match: RegExpMatchArray,
  maxBodyBytes: number,
) {
  const body = route.hasBody ? await readJsonBody(request, readBytes, maxBodyBytes) : {};
  const values: Record<string, unknown> = {};
  for (const arg of route.graphqlField.args) {
    const source = route.sourceOf(arg);
    const raw =
      source === 'path'
        ? decodePathSegment(arg, match[route.pathParams.indexOf(arg.name) + 1] as string)
        : source === 'query'
          ? queryValue(arg, query)
          : body[arg.name];
    if (raw === null && source === 'body' && route.clearedByNull?.includes(arg.name)) {
      values[arg.name] = null;
      continue;
    }
    if (raw === undefined || raw === null) {
      if (isNonNullType(arg.type) && arg.defaultValue === undefined) throw new InputError(`${arg.name}: is required`);
      continue;
    }
    values[arg.name] = coerce(arg, raw, source !== 'body');
  }
  return values;
}
