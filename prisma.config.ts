import { defineConfig } from 'prisma/config';
import { migrationAdapterFactory } from './src/adapter';
import { config } from './src/config';

// Prisma 6 with `engine: 'js'` and a driver adapter runs generate, migrate deploy and migrate diff
// without the native schema engine, which would otherwise be downloaded (and this network refuses).
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => migrationAdapterFactory(config.database),
});
