// Imported first by test/rate-limit.test.ts (config is read once).
process.env.RATE_LIMIT_PER_MINUTE = '5';
