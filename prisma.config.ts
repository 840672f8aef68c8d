import { defineConfig } from 'prisma/config';
import { migrationAdapterFactory } from './prisma/cli/adapters';
import { loadConfig } from './src/config';
import { prismaPaths } from './src/db/paths';

// Prisma 6 with `engine: 'js'` and a driver adapter runs generate, migrate deploy and migrate diff
// without the native schema engine, which would otherwise be downloaded (and this network refuses).
// DATABASE_URL picks the database, and with it the schema variant and its migrations folder.
const config = loadConfig(process.env);
const paths = prismaPaths(config.database);

// Full-text search tables that migrations create and Prisma does not model (SQLite FTS5 and its
// shadow tables): without this, every new migration would drop them.
const searchTables = ['MessageSearch', 'ChatSearch'].flatMap((t) =>
  ['', '_data', '_idx', '_docsize', '_config'].map((suffix) => `${t}${suffix}`),
);

export default defineConfig({
  experimental: { adapter: true, externalTables: true },
  engine: 'js',
  schema: paths.schema,
  migrations: { path: paths.migrations },
  tables: { external: config.database.provider === 'sqlite' ? searchTables : [] },
  adapter: async () => migrationAdapterFactory(config.database),
});
