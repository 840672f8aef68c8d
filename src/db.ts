import { adapterFactory } from './adapter';
import { config } from './config';
import { PrismaClient } from './generated/prisma/client';

export const prisma = new PrismaClient({ adapter: adapterFactory(config.database) });

/**
 * Settings of the database file and of this process' connection. WAL lets readers run beside a
 * writer and survives a killed process; `synchronous = NORMAL` is the usual partner of WAL (a
 * power cut may lose the last commits, a crash of the process loses nothing).
 */
export async function prepareDatabase(): Promise<void> {
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}
