import { databaseForTestFile } from './databases';

// The environment every test file's gateway starts from (test/support/gateway.ts), and that the
// gateway processes tests start inherit (test/support/gateway-process.ts): this file's own
// database, a known admin key, quiet logs, and none of the settings a developer may have exported.
process.env.DATABASE_URL = databaseForTestFile();
process.env.ADMIN_API_KEY = 'test-admin-key';
process.env.LOG_LEVEL = 'error';
// Tests sweep for retention when they mean to (gateway.retention.sweep()), not on a timer.
process.env.RETENTION_SWEEP_INTERVAL_SECONDS = '0';
// Every /graphql query runs compiled from its first run (in production, from its second), so the
// whole suite checks compiled execution; test/graphql/compiled-execution.test.ts compares it with
// the executor's answers.
process.env.GRAPHQL_COMPILE_AFTER = '1';
delete process.env.NODE_ENV;
for (const name of [
  'ENABLE_DEBUG_ROUTES',
  'AUTH_MODE',
  'JWT_SECRET',
  'RATE_LIMIT_PER_MINUTE',
  'REDIS_URL',
  'CORS_ORIGINS',
  'RETENTION_DAYS',
]) {
  delete process.env[name];
}
