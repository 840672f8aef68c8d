import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Gateway } from '../../src/app';
import { schema } from '../../src/graphql/schema';
import { compileRoutes } from '../../src/rest/compile';
import { matchPath, routeFor } from '../../src/rest/execute';
import { buildOpenApi, openApiOptions } from '../../src/rest/openapi';

/*
 * Every REST answer a test receives through test/support/http.ts is checked against the OpenAPI
 * document of the gateway that gave it (the one /openapi.json serves, built from the same
 * settings): its status must be declared for the operation, its media type too, and a JSON body
 * must match the declared schema. So the whole suite, success and error answers alike, is a test
 * that the document tells clients the truth. Requests that no documented operation serves (an
 * unknown path, another method) are not checked.
 */

type Operation = { responses: Record<string, { content?: Record<string, { schema?: object }> }> };
type Checker = { routes: ReturnType<typeof compileRoutes>; operations: Map<string, Operation>; ajv: Ajv };

const checkers = new WeakMap<Gateway, Promise<Checker>>();
const validators = new WeakMap<object, ValidateFunction>();

/** OpenAPI 3.0's `nullable` as JSON Schema: the value may also be null. */
function toJsonSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (!value || typeof value !== 'object') return value;
  const { nullable, ...rest } = value as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, toJsonSchema(v)]));
  return nullable ? { anyOf: [converted, { type: 'null' }] } : converted;
}

function checkerFor(gateway: Gateway): Promise<Checker> {
  let checker = checkers.get(gateway);
  if (!checker) {
    const { config } = gateway.services;
    const routes = compileRoutes(schema, config);
    const document = buildOpenApi(routes, openApiOptions(config));
    checker = SwaggerParser.dereference(structuredClone(document) as never).then((doc) => {
      const operations = new Map<string, Operation>();
      for (const [path, ops] of Object.entries(
        (doc as unknown as { paths: Record<string, Record<string, Operation>> }).paths,
      )) {
        for (const [method, op] of Object.entries(ops)) operations.set(`${method.toUpperCase()} ${path}`, op);
      }
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      return { routes, operations, ajv };
    });
    checkers.set(gateway, checker);
  }
  return checker;
}

/** Throws, saying what differs, when `reply` is not what the document declares for the request. */
export async function expectDocumented(
  gateway: Gateway,
  method: string,
  path: string,
  reply: { status: number; headers: Headers; text: string },
): Promise<void> {
  const { routes, operations, ajv } = await checkerFor(gateway);
  const pathname = new URL(path, 'http://localhost').pathname;
  if (method.toUpperCase() === 'HEAD') return;
  const hit = routeFor(matchPath(routes, pathname), method.toUpperCase());
  // Routes outside the route map (POST /chats/import, GET /usage/export) are documented at their exact path.
  const name = hit
    ? `${hit.route.method} ${hit.route.path.replace(/:(\w+)/g, '{$1}')}`
    : `${method.toUpperCase()} ${pathname}`;
  const operation = operations.get(name);
  if (!operation) return;
  const where = `${method} ${path} (${name}) answered ${reply.status}`;
  const response = operation.responses[String(reply.status)];
  if (!response) {
    throw new Error(`${where}, which the OpenAPI document does not declare: ${reply.text.slice(0, 200)}`);
  }
  if (!response.content) return;
  const type = reply.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  const media = response.content[type];
  if (!media) {
    throw new Error(`${where} as ${type}; the document declares ${Object.keys(response.content).join(', ')}`);
  }
  if (type !== 'application/json' || !media.schema) return;
  let validate = validators.get(media.schema);
  if (!validate) {
    validate = ajv.compile(toJsonSchema(media.schema) as object);
    validators.set(media.schema, validate);
  }
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    throw new Error(`${where} with a body that is not JSON: ${reply.text.slice(0, 200)}`);
  }
  if (!validate(body)) {
    throw new Error(
      `${where} with a body the document's schema refuses: ${ajv.errorsText(validate.errors)}\n${reply.text.slice(0, 500)}`,
    );
  }
}
