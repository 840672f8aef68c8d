// Prints the schema as SDL to schema.graphql, and the REST API's OpenAPI document for the default
// settings to openapi.json (or both to stdout with --stdout). The committed files are what
// clients generate code from, and tests fail when they differ from what this prints.
import fs from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { loadConfig, projectRoot } from '../src/config';
import { schema } from '../src/graphql/schema';
import { compileRoutes } from '../src/rest/compile';
import { buildOpenApi, openApiOptions } from '../src/rest/openapi';

const sdl = `${printSchema(schema)}\n`;
// The defaults, whatever this shell's environment says: the served document follows the settings.
const config = loadConfig({});
const openapi = `${JSON.stringify(buildOpenApi(compileRoutes(schema, config), openApiOptions(config)), null, 2)}\n`;
if (process.argv.includes('--stdout')) process.stdout.write(`${sdl}\n${openapi}`);
else {
  fs.writeFileSync(path.join(projectRoot(), 'schema.graphql'), sdl);
  fs.writeFileSync(path.join(projectRoot(), 'openapi.json'), openapi);
}
