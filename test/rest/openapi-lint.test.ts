import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { schema } from '../../src/graphql/schema';
import { compileRoutes } from '../../src/rest/compile';
import { buildOpenApi, openApiOptions } from '../../src/rest/openapi';
import { JWT_SECRET } from '../support/settings';

/*
 * The OpenAPI document under the two linters client teams use, with the repository's own
 * configurations (redocly.yaml with .redocly.lint-ignore.yaml, .spectral.yaml: the recommended
 * rules, with only the trailing-slash rule off for the two documented paths that end in a slash),
 * for each kind of settings the document changes with.
 */

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');

const SETTINGS: Record<string, Record<string, string>> = {
  defaults: {},
  'api keys, admin key, rate limit': {
    AUTH_MODE: 'api-key',
    ADMIN_API_KEY: 'an-admin-key-of-some-length',
    RATE_LIMIT_PER_MINUTE: '60',
  },
  'JWTs, a read deadline': { AUTH_MODE: 'jwt', JWT_SECRET, REQUEST_DEADLINE_MS: '2000' },
};

function documentFor(settings: Record<string, string>) {
  const config = loadConfig(settings);
  return buildOpenApi(compileRoutes(schema, config), openApiOptions(config));
}

/** A folder holding the document as openapi.json beside copies of the linters' configurations. */
function lintFolder(document: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
  for (const file of ['redocly.yaml', '.redocly.lint-ignore.yaml', '.spectral.yaml']) {
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  fs.writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(document, null, 2));
  return dir;
}

const ENV = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

describe.each(Object.entries(SETTINGS))('the OpenAPI document with %s', (_name, settings) => {
  let dir: string;
  beforeAll(() => {
    dir = lintFolder(documentFor(settings));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes Redocly's recommended rules: no error, and no warning but the licence's URL", async () => {
    const { stdout } = await run(path.join(BIN, 'redocly'), ['lint', 'openapi.json', '--format=json'], {
      cwd: dir,
      env: ENV,
    });
    const report = JSON.parse(stdout) as { totals: { errors: number }; problems: { ruleId: string }[] };
    expect(report.totals.errors).toBe(0);
    // A proprietary API has no licence page to link to (the licence names itself); the only warning.
    expect(report.problems.map((p) => p.ruleId)).toEqual(['info-license-strict']);
  }, 60_000);

  it("passes Spectral's spectral:oas rules with no warning", async () => {
    // Exit 0: no finding at warning level or above. Anything else (findings, or Spectral itself
    // failing on its ruleset) fails the test, with what Spectral said.
    const outcome = await run(
      path.join(BIN, 'spectral'),
      ['lint', 'openapi.json', '--format=json', '--fail-severity=warn', '--quiet'],
      { cwd: dir, env: ENV },
    ).then(
      () => 'passed',
      (error: { code?: number; stdout?: string; stderr?: string }) =>
        `exit ${error.code}: ${error.stdout?.slice(0, 2000)} ${error.stderr?.slice(0, 2000)}`,
    );
    expect(outcome).toBe('passed');
  }, 60_000);
});

/** The one route open to anyone in every AUTH_MODE. */
const PUBLIC = '/shared/{token}';

describe('security schemes follow AUTH_MODE', () => {
  it('api-key without an admin key: no route is documented as open but a shared chat’s page', () => {
    const doc = documentFor({ AUTH_MODE: 'api-key' });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops as Record<string, { security: unknown[] }>)) {
        const open = path === PUBLIC;
        expect([method, path, op.security.length > 0]).toEqual([method, path, !open]);
      }
    }
  });

  it('api-key: every route needs a user key or the admin key, 401 and 429 declared', () => {
    const doc = documentFor(SETTINGS['api keys, admin key, rate limit'] as Record<string, string>);
    expect(Object.keys(doc.components.securitySchemes ?? {}).sort()).toEqual(['adminKey', 'apiKey']);
    const ops = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.values(ops as object).map((op) => ({ path, ...(op as object) })),
    ) as { path: string; security: unknown; responses: Record<string, unknown> }[];
    for (const op of ops) {
      // A shared chat's page takes no credentials: it never answers 401.
      expect([op.path, op.responses['401'] === undefined]).toEqual([op.path, op.path === PUBLIC]);
      expect(op.responses['429']).toBeDefined();
    }
    const paths = doc.paths as Record<string, Record<string, { security: unknown }>>;
    expect(paths[PUBLIC]?.get?.security).toEqual([]);
    expect(paths['/chats/{chat_id}']?.get?.security).toEqual([{ apiKey: [] }, { adminKey: [] }]);
    // Provisioning users is for admins once authentication is on.
    expect(paths['/chats/users']?.post?.security).toEqual([{ adminKey: [] }]);
  });

  it('jwt: bearer tokens (an admin by its role claim), and WWW-Authenticate on 401', () => {
    const doc = documentFor(SETTINGS['JWTs, a read deadline'] as Record<string, string>);
    expect(Object.keys(doc.components.securitySchemes ?? {})).toEqual(['bearerAuth']);
    const paths = doc.paths as Record<string, Record<string, { security: unknown }>>;
    expect(paths['/chats/users']?.post?.security).toEqual([{ bearerAuth: [] }]);
    const unauthorized = doc.components.responses.Unauthorized as { headers?: Record<string, unknown> };
    expect(unauthorized.headers?.['WWW-Authenticate']).toBeDefined();
  });
});
