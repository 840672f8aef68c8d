import type { DatabaseConfig } from '../config';

/** Where each database's schema and committed migrations live (for the server's /ready and the CLI). */
export function prismaPaths(database: DatabaseConfig): { schema: string; migrations: string } {
  return database.provider === 'postgresql'
    ? { schema: 'prisma/postgresql/schema.prisma', migrations: 'prisma/postgresql/migrations' }
    : { schema: 'prisma/schema.prisma', migrations: 'prisma/migrations' };
}
