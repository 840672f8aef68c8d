// Hostile inputs for test/app/fuzz.test.ts. JSON values are kept as their raw text, so non-canonical
// literals (1e400, 1.0, -0, 2^64) and lone surrogate escapes reach the server exactly as written.
import fc from 'fast-check';

/** One UTF-16 code unit, any of them: lone surrogates, NUL and other control characters included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

const specialStrings = [
  '',
  ' ',
  '   ',
  '\t\r\n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'a\udfff',
  '\udc00\ud800',
  'x\ud83d',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈 flag',
  'e\u0301\u0302\u0303\u0304\u0305',
  '\u0301',
  'Z̷̢̛̯̮a̶l̴g̸o̵',
  '\u202eevil\u202c',
  'مرحبا بالعالم',
  'שלום עולם',
  '\u200f\u200e\u200b',
  '\ufeff',
  '\ufeffBOM',
  '\u2028\u2029',
  '\u00a0nbsp\u00a0',
  '\u3000',
  ' leading and trailing ',
  '\uffff\ufffe\ufffd',
  '\u{10ffff}\u{1f600}\u{e0001}',
  '\x7f\x1b[31m',
  `'; DROP TABLE "Chat"; --`,
  "' OR '1'='1",
  '1; DELETE FROM "Message" WHERE 1=1',
  '") OR 1=1 --',
  "Robert'); DROP TABLE Students;--",
  '%',
  '%00',
  '\\',
  '"',
  '\\u0000',
  '$\u007b7*7}', // ${7*7}
  '{{7*7}}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'true',
  'NaN',
  '0',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  'toString',
  'a@b.co',
  'USER@EXAMPLE.COM',
  ' padded@example.com ',
  'no-at-sign',
  '@example.com',
  'user',
  'ai',
  'AI',
  ' user',
  'system',
  'gpt-4o',
  'OPENAI/GPT-4O',
  ' gpt-4o-mini ',
  'claude-3-5-sonnet',
];

/** Strings at and around every documented limit (title 200, username 100, email 254, content 100000 UTF-16 units). */
const longString = fc
  .tuple(
    fc.constantFrom(99, 100, 101, 199, 200, 201, 253, 254, 255, 1000, 99_999, 100_000, 100_001),
    fc.constantFrom('a', 'é', '😀', ' ', 'e\u0301', '\u0000', '\ud800'),
    fc.constantFrom('', ' ', 'x'),
  )
  .map(([n, unit, pad]) => pad + unit.repeat(Math.max(1, Math.floor(n / unit.length))) + pad);

/** More than MAX_BODY_BYTES (1 MiB by default) on its own. */
const hugeString = fc.constant('x'.repeat(1_100_000));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...specialStrings), weight: 6 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }), weight: 2 },
  { arbitrary: longString, weight: 2 },
  { arbitrary: hugeString, weight: 1 },
);

/** Numbers as raw JSON text: integers at the 32-bit edges, floats, exponents, and literals JSON itself refuses. */
export const rawNumber: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '0',
      '-0',
      '1',
      '-1',
      '1.0',
      '1.5',
      '-1.5',
      '1e0',
      '1E2',
      '0.1e1',
      '2147483647',
      '2147483648',
      '-2147483648',
      '-2147483649',
      '4294967296',
      '9007199254740991',
      '9007199254740993',
      '18446744073709551616',
      '123456789012345678901234567890',
      '1e400',
      '-1e400',
      '1e-400',
      '5e-324',
      '1.7976931348623157e308',
      '0x10',
      '+1',
      '01',
      'NaN',
      'Infinity',
      '-Infinity',
    ),
    weight: 4,
  },
  { arbitrary: fc.integer().map(String), weight: 2 },
  { arbitrary: fc.integer({ min: -5, max: 1_000_000 }).map(String), weight: 2 },
  { arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String), weight: 1 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)), weight: 1 },
);

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

const rawStructures = fc.constantFrom(
  'null',
  'true',
  'false',
  '[]',
  '{}',
  '[1]',
  '[null]',
  '["user"]',
  '{"a":1}',
  '{"$ne":null}',
  '{"__proto__":{"isAdmin":true}}',
  '"1"',
  '" 1"',
  '"1.0"',
  '""',
  deep(2000),
);

/** Any JSON value, as raw text (JSON.stringify escapes lone surrogates as \udXXX, which JSON.parse restores). */
export const hostileJson: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileString.map((s) => JSON.stringify(s)), weight: 5 },
  { arbitrary: rawNumber, weight: 4 },
  { arbitrary: rawStructures, weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), weight: 1 },
);

/** Query-string values, already encoded, plus percent sequences that decode to nothing sane. */
export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileString.map((s) => (s.isWellFormed() ? encodeURIComponent(s) : '%ED%A0%80')), weight: 3 },
  { arbitrary: rawNumber.map(encodeURIComponent), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '',
      '%',
      '%zz',
      '%ED%A0%80',
      '%00',
      '%C0%80',
      '%FF',
      '+1',
      '1+',
      '%2B1',
      '1,2',
      '1%2C2',
      '%20',
      '1%0A',
      '%EF%BC%91', // fullwidth digit one
      '%D9%A1', // Arabic-Indic digit one
      'true',
      'null',
    ),
    weight: 2,
  },
);

/** Path segments, already encoded where they have to be; some decode badly or to another path. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: hostileString
      .filter((s) => s.length < 5000)
      .map((s) => (s.isWellFormed() ? encodeURIComponent(s) : '%ED%A0%80')),
    weight: 2,
  },
  { arbitrary: rawNumber.map(encodeURIComponent), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '%',
      '%zz',
      '%ED%A0%80',
      '%00',
      '..',
      '.',
      '%2e%2e',
      '%2F',
      '1%2F2',
      '1;a',
      '1%3B',
      '%201',
      '1%20',
      '%EF%BC%91',
      'users',
      'cleanup-empty',
      'debug',
      '1.0',
      '01',
      '0',
      '-1',
      '2147483647',
      '2147483648',
      '99999999999999999999',
    ),
    weight: 2,
  },
);

/** Object keys beside the documented ones. */
export const extraKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'is_admin',
    'user_id',
    'chat_id',
    'message_id',
    'created_at',
    'title',
    'email',
    'query',
    'variables',
    '',
    ' ',
    '\u0000',
    '\ud800',
    'user_id[]',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** Whole request bodies that are not a JSON object, or not JSON, or not UTF-8. */
export const hostileBodyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .constantFrom(
      '',
      ' ',
      '{',
      '}',
      '{"a":',
      'null',
      '[]',
      '[{}]',
      '"text"',
      '1',
      'true',
      '{}garbage',
      '{} {}',
      '\ufeff{}',
      "{'single': 'quotes'}",
      '{"user_id": 1,}',
      '{"user_id": 01}',
      '{"content": "unterminated}',
      '{"content": "\\ud800", "sender": "user"}',
      '{"content": "tab\there", "sender": "user"}',
      deep(5000),
      `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
      'user_id=1&title=x',
      '<xml/>',
    )
    .map((s) => new TextEncoder().encode(s)),
  fc
    .constantFrom(
      [0xff, 0xfe, 0x7b, 0x7d],
      [0x7b, 0x22, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x22, 0x3a, 0x22, 0xc0, 0x80, 0x22, 0x7d],
      [0x00, 0x00, 0x00],
    )
    .map((bytes) => Uint8Array.from(bytes)),
  fc.uint8Array({ maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
);

/** Invalid UTF-8 bytes to put inside a JSON string: the server must refuse the body (422). */
export const badUtf8InString: fc.Arbitrary<Uint8Array> = fc
  .constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82])
  .map((bytes) => Uint8Array.from(bytes));

/** Request headers a client might send, right or wrong. */
export const hostileHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc
    .constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/graphql',
      'application/graphql-response+json',
      'application/xml',
      '*/*',
      '',
    )
    .map((v): [string, string] => ['content-type', v]),
  fc
    .constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown')
    .map((v): [string, string] => ['content-encoding', v]),
  fc
    .constantFrom('test-admin-key', 'wrong-key', '', 'TEST-ADMIN-KEY', 'test-admin-key ')
    .map((v): [string, string] => ['x-admin-api-key', v]),
  fc
    .constantFrom('text/html', 'application/graphql-response+json', 'application/xml', '*/*')
    .map((v): [string, string] => ['accept', v]),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((v): [string, string] => ['x-request-id', v.trim()]),
);

/** GraphQL literals to write inline where a variable was. */
export const hostileGraphqlLiteral: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileString.filter((s) => s.length < 5000).map((s) => JSON.stringify(s)), weight: 3 },
  { arbitrary: rawNumber, weight: 3 },
  {
    arbitrary: fc.constantFrom(
      'null',
      'true',
      '[1]',
      '[]',
      '{a: 1}',
      'user',
      'ai',
      'USER',
      '"user"',
      '"""block\nstring"""',
      '$undeclared',
      '"\\u{1F600}"',
      '"\\ud800"',
      '"\\u0000"',
    ),
    weight: 2,
  },
);

/** Declared variable types, right and wrong. */
export const graphqlTypeName = fc.constantFrom(
  'Int',
  'Int!',
  'String',
  'String!',
  'Float',
  'Boolean',
  'ID',
  '[Int]',
  '[String!]!',
  'Sender',
  'Sender!',
  'DateTime',
  'NoSuchType',
);

/** The text every text field must accept: well-formed, no NUL, not blank, at most `max` UTF-16 units. */
export const isAcceptableText = (s: string, max: number) =>
  s.isWellFormed() && !s.includes('\u0000') && s.trim().length > 0 && s.length <= max;

/** Hostile text that is nevertheless valid, so it must be stored and read back exactly. */
export function validHostileText(max: number): fc.Arbitrary<string> {
  const pad = fc.constantFrom('', ' ', '\t', '\n', '\r\n', '\u00a0', '\u200b', '\u3000', '\ufeff');
  return fc
    .tuple(
      pad,
      fc.oneof(
        hostileString,
        fc.string({ unit: 'grapheme-composite', minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
        fc.constantFrom(max - 1, max).map((n) => 'é😀'.repeat(Math.floor(n / 3)).padEnd(n, 'x')),
      ),
      pad,
    )
    .map(([a, s, b]) => a + s + b)
    .filter((s) => isAcceptableText(s, max));
}
