import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { loadConfig } from '../../src/config';
import { schema } from '../../src/graphql/schema';
import { compileRoutes } from '../../src/rest/compile';
import { buildOpenApi, openApiOptions } from '../../src/rest/openapi';
import { routes } from '../../src/rest/routes';
import { addMessage, call, newChat, newUser } from '../support/http';

const DOCUMENTED = [
  'post /chats/',
  'get /chats/',
  'get /chats/{chat_id}',
  'put /chats/{chat_id}',
  'put /chats/{chat_id}/active-branch',
  'delete /chats/{chat_id}',
  'post /chats/cleanup-empty',
  'post /chats/{chat_id}/messages',
  'post /chats/users',
  'post /chats/debug/test-model-usage',
  'post /usage',
  'get /usage/summary',
  'get /chats/{chat_id}/messages',
  'get /chats/{chat_id}/export',
  'get /chats/search/',
  'post /folders',
  'get /folders',
  'put /folders/{folder_id}',
  'delete /folders/{folder_id}',
  'get /users/{user_id}/retention',
  'put /users/{user_id}/retention',
  'post /admin/retention/preview',
  'get /usage/allowance',
  'put /budgets',
  'get /budgets',
  'delete /budgets/{budget_id}',
  'get /budgets/{budget_id}/alerts',
  'put /chats/{chat_id}/messages/{message_id}/feedback',
  'delete /chats/{chat_id}/messages/{message_id}/feedback',
  'post /chats/{chat_id}/shares',
  'get /chats/{chat_id}/shares',
  'delete /chats/{chat_id}/shares/{share_id}',
  'get /shared/{token}',
];

/** Routes outside the route map (not GraphQL fields), written into the document by hand. */
const STREAMED = ['get /usage/export', 'get /feedback', 'post /chats/import'];

async function openapi() {
  const r = await call('GET', '/openapi.json');
  expect(r.status).toBe(200);
  return r.json;
}

/** The document with every `$ref` replaced by what it names. */
async function resolved() {
  return (await SwaggerParser.dereference(await openapi())) as any;
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const doc = await openapi();
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
  });

  it('lists exactly the documented routes', async () => {
    const doc = await openapi();
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m} ${path}`),
    );
    expect(listed.sort()).toEqual([...DOCUMENTED, ...STREAMED].sort());
  });

  it('documents parameters and bodies where the spec puts them', async () => {
    const { paths } = await resolved();
    const add = paths['/chats/{chat_id}/messages'].post;
    expect(add.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:chat_id',
      'query:user_id',
    ]);
    const body = add.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties).sort()).toEqual(['content', 'parent_id', 'sender', 'streaming']);
    expect(body.required.sort()).toEqual(['content', 'sender']);
    expect(body.properties.sender.enum.sort()).toEqual(['ai', 'user']);
    const list = paths['/chats/'].get.parameters.map((p: { name: string; schema: { default?: unknown } }) => [
      p.name,
      p.schema.default,
    ]);
    expect(list).toEqual(
      expect.arrayContaining([
        ['limit', 10],
        ['offset', 0],
        ['user_id', undefined],
      ]),
    );
    expect(paths['/chats/users'].post.requestBody.content['application/json'].schema.required.sort()).toEqual([
      'email',
      'username',
    ]);
  });

  it('describes each 200 body with exactly the keys the route returns', async () => {
    const { paths } = await resolved();
    const u = await newUser();
    const c = await newChat(u.user_id);
    await addMessage(c.chat_id, 'hi');
    const samples: Record<string, { path: string; body?: unknown }> = {
      'get /chats/{chat_id}': { path: `/chats/${c.chat_id}` },
      'get /chats/': { path: '/chats/' },
      'post /chats/': { path: '/chats/', body: {} },
      'put /chats/{chat_id}': { path: `/chats/${c.chat_id}`, body: { title: 't' } },
      'post /chats/users': { path: '/chats/users', body: { username: 'x', email: u.email } },
      'post /chats/debug/test-model-usage': { path: '/chats/debug/test-model-usage' },
    };
    for (const [key, sample] of Object.entries(samples)) {
      const [method, path] = key.split(' ') as [string, string];
      const schema = paths[path][method].responses['200'].content['application/json'].schema;
      const r = await call(method.toUpperCase(), sample.path, sample.body);
      const item = schema.type === 'array' ? schema.items : schema;
      const body = Array.isArray(r.json) ? r.json[0] : r.json;
      // The same object shape is one named schema, whose key order is that of its first route.
      expect([key, Object.keys(item.properties).sort()]).toEqual([key, Object.keys(body).sort()]);
    }
  });

  it('names a component schema for every body, shared where the shape is the same', async () => {
    const { paths, components } = await openapi();
    expect(Object.keys(components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'Chat', 'ChatWithMessages', 'Message', 'User', 'AddMessageRequest']),
    );
    const ref = (schema: any) => schema.$ref ?? schema.items?.$ref;
    const json = (op: any) => op.responses['200'].content['application/json'].schema;
    expect(ref(json(paths['/chats/'].post))).toBe('#/components/schemas/Chat');
    expect(ref(json(paths['/chats/'].get))).toBe('#/components/schemas/Chat');
    expect(ref(json(paths['/chats/{chat_id}'].put))).toBe('#/components/schemas/Chat');
    expect(ref(json(paths['/chats/{chat_id}'].get))).toBe('#/components/schemas/ChatWithMessages');
    expect(ref(json(paths['/chats/{chat_id}/messages'].post))).toBe('#/components/schemas/Message');
    expect(paths['/chats/{chat_id}/messages'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/AddMessageRequest',
    );
  });

  it('documents the export as the file it is: JSON or Markdown, as an attachment', async () => {
    const { paths } = await openapi();
    const ok = paths['/chats/{chat_id}/export'].get.responses['200'];
    expect(ok.content['application/json'].schema.$ref).toBe('#/components/schemas/ChatExportFile');
    expect(ok.content['text/markdown'].schema.type).toBe('string');
    expect(ok.headers['Content-Disposition']).toBeDefined();
  });

  it('has tags, a server and a licence; with authentication off, only the admin key as a scheme', async () => {
    const doc = await openapi();
    expect(doc.tags.map((t: { name: string }) => t.name).sort()).toEqual(
      [
        'Admin',
        'Budgets',
        'Chats',
        'Debugging',
        'Feedback',
        'Folders',
        'Import',
        'Messages',
        'Sharing',
        'Usage',
        'Users',
      ].sort(),
    );
    expect(doc.servers).toEqual([{ url: '/', description: 'This server' }]);
    expect(doc.info.license.name).toBeTruthy();
    // The tests' settings have an ADMIN_API_KEY; routes are open, the admin key optional where it adds rights.
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['adminKey']);
    expect(doc.paths['/chats/'].get.security).toEqual([]);
    expect(doc.paths['/chats/cleanup-empty'].post.security).toEqual([{}, { adminKey: [] }]);
    // An operators' route needs the key.
    expect(doc.paths['/admin/retention/preview'].post.security).toEqual([{ adminKey: [] }]);
  });

  it('has a description for every route and documents error bodies', async () => {
    const { paths, components } = await resolved();
    expect(components.schemas.Error.required).toEqual(['detail']);
    for (const ops of Object.values(paths) as Record<string, any>[]) {
      for (const op of Object.values(ops)) {
        expect(op.summary).toBeTruthy();
        expect(op.description).toBeTruthy();
        expect(op.responses['422'].content['application/json'].schema.required).toEqual(['detail']);
        expect(op.responses['500']).toBeDefined();
        // Without authentication or rate limits (this file's settings), no 401 and no 429.
        expect(op.responses['401']).toBeUndefined();
        // ... except where a spent budget refuses (a streamed AI answer).
        if (op.operationId !== 'add_message') expect(op.responses['429']).toBeUndefined();
        else expect(op.responses['429'].description).toMatch(/budget is spent/);
      }
    }
  });

  it('documents 503 with Retry-After everywhere, and the deadline only on reads, which it alone can cut', async () => {
    const { paths } = await resolved();
    const read = paths['/chats/{chat_id}'].get.responses['503'];
    const write = paths['/chats/{chat_id}'].put.responses['503'];
    expect(read.description).toMatch(/REQUEST_DEADLINE_MS/);
    expect(write.description).not.toMatch(/REQUEST_DEADLINE_MS/);
    expect(write.description).toMatch(/database/);
    expect(write.headers['Retry-After']).toBeDefined();
  });

  it('openapi.json, committed for client generators, is the document of the default settings (`npm run schema:print`)', () => {
    const config = loadConfig({});
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'openapi.json'), 'utf8');
    expect(committed).toBe(
      `${JSON.stringify(buildOpenApi(compileRoutes(schema, config), openApiOptions(config)), null, 2)}\n`,
    );
  });

  it('matches the route map', () => {
    expect(routes.map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort()).toEqual(
      [...DOCUMENTED].sort(),
    );
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI from this server, not a CDN', async () => {
    const page = await call('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(source).toMatch(/^\/docs\//);
      expect((await call('GET', source as string)).status).toBe(200);
    }
    expect((await call('GET', '/docs/init.js')).text).toMatch(/\/openapi\.json/);
  });
});
