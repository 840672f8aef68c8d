import fs from 'node:fs';

export default function globalTeardown() {
  if (process.env.TEST_DB_DIR) fs.rmSync(process.env.TEST_DB_DIR, { recursive: true, force: true });
}
