#!/usr/bin/env node
// prisma/schema.prisma is the one source of truth. Prisma wants the provider as a literal (and
// the generated client embeds it), so this derives prisma/postgresql/schema.prisma from it and,
// with `--generate`, generates both clients. Run by postinstall and by new-migration.mjs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const source = fs.readFileSync(path.join(root, 'prisma', 'schema.prisma'), 'utf8');

function replaceOnce(text, pattern, replacement) {
  if (!pattern.test(text)) throw new Error(`prisma/schema.prisma no longer matches ${pattern}`);
  return text.replace(pattern, replacement);
}

let postgres = source;
postgres = replaceOnce(postgres, /provider = "sqlite"/, 'provider = "postgresql"');
postgres = replaceOnce(postgres, /url\s+= "file:[^"]*"/, 'url      = "postgresql://localhost/unused"');
postgres = replaceOnce(
  postgres,
  /output\s+= "\.\.\/src\/generated\/prisma"/,
  'output       = "../../src/generated/prisma-postgresql"',
);
// PostgreSQL reads a relation inside its parent's statement (a lateral join), so a chat with its
// newest messages is one statement (src/graphql/relation-pages.ts, joinsRelations). SQLite's
// client would still cut a nested `take` in memory, so only this client has it.
postgres = replaceOnce(postgres, /( {2}engineType\s+= "client"\n)/, '$1  previewFeatures     = ["relationJoins"]\n');
// The Pothos types describe the models, which are the same for both databases: generate them once.
postgres = replaceOnce(postgres, /\ngenerator pothos \{[^}]*\}\n/, '\n');
postgres = `// GENERATED from ../schema.prisma by scripts/prisma-schemas.mjs: edit that file, not this one.\n\n${postgres}`;

fs.mkdirSync(path.join(root, 'prisma', 'postgresql'), { recursive: true });
fs.writeFileSync(path.join(root, 'prisma', 'postgresql', 'schema.prisma'), postgres);

if (process.argv.includes('--generate')) {
  for (const schema of ['prisma/schema.prisma', 'prisma/postgresql/schema.prisma']) {
    execFileSync('npx', ['prisma', 'generate', '--schema', schema], { cwd: root, stdio: 'inherit' });
  }
}
