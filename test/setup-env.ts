import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// Runs before each test file's imports, so src/config.ts reads these.
const template = process.env.TEST_TEMPLATE_DB as string;
const file = path.join(path.dirname(template), `${randomUUID()}.db`);
fs.copyFileSync(template, file);
process.env.DATABASE_URL = `file:${file}`;
process.env.ADMIN_API_KEY = 'test-admin-key';
process.env.LOG_LEVEL = 'error';
delete process.env.NODE_ENV;
delete process.env.ENABLE_DEBUG_ROUTES;
