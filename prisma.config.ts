import { defineConfig } from 'prisma/config';
import { migrationAdapterFactory, prismaPaths } from './src/adapter';
import { config } from './src/config';

// Prisma 6 with `engine: 'js'` and a driver adapter runs generate, migrate deploy and migrate diff
// without the native schema engine, which would otherwise be downloaded (and this network refuses).
// DATABASE_URL picks the database, and with it the schema variant and its migrations folder.
const paths = prismaPaths(config.database);

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: paths.schema,
  migrations: { path: paths.migrations },
  adapter: async () => migrationAdapterFactory(config.database),
});
