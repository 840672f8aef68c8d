// Prints the schema as SDL to schema.graphql (or stdout with --stdout). The committed file is what
// GraphQL clients read, and a test fails when it differs from what this prints.
import fs from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { projectRoot } from '../src/config';
import { schema } from '../src/graphql/schema';

const sdl = `${printSchema(schema)}\n`;
if (process.argv.includes('--stdout')) process.stdout.write(sdl);
else fs.writeFileSync(path.join(projectRoot(), 'schema.graphql'), sdl);
