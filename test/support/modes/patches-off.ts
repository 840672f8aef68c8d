// Imported first by test/db/patches-off.test.ts: no Prisma patches (config is read once).
process.env.PRISMA_PATCHES = 'off';
