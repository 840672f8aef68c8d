import { databaseForTestFile } from './databases';

// Runs before each test file's imports, so src/config.ts reads these.
process.env.DATABASE_URL = databaseForTestFile();
process.env.ADMIN_API_KEY = 'test-admin-key';
process.env.LOG_LEVEL = 'error';
delete process.env.NODE_ENV;
for (const name of [
  'ENABLE_DEBUG_ROUTES',
  'AUTH_MODE',
  'JWT_SECRET',
  'RATE_LIMIT_PER_MINUTE',
  'REDIS_URL',
  'CORS_ORIGINS',
]) {
  delete process.env[name];
}
