import Database from 'better-sqlite3';
import { usePostgres } from '../support/databases';
import { http, spawnGateway, stopGateway } from '../support/gateway-process';

// prepareDb (src/db/client.ts) at start-up, on a real file and a real gateway process.

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(usePostgres ? describe.skip : describe)('a SQLite file at start-up', () => {
  // The test file's database is a copy of the migrated template: still in rollback-journal mode,
  // as a new user's file is on the first start. Switching it to WAL needs the file's write lock,
  // and SQLite refuses at once (no busy timeout) while another connection holds it: that is what
  // a second cluster worker switching the same file at the same moment does.
  it('switches to WAL once another connection lets go of the write lock, instead of failing to start', async () => {
    const file = (process.env.DATABASE_URL as string).replace(/^file:/, '');
    const other = new Database(file);
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('delete');
      other.exec('BEGIN IMMEDIATE');
      const spawned = spawnGateway();
      const gateway = { ...spawned, url: '' };
      try {
        // Hold the lock until the gateway has met it (or given up).
        const deadline = Date.now() + 30_000;
        while (!/SQLite file is locked/.test(spawned.output()) && spawned.process.exitCode === null) {
          if (Date.now() > deadline) throw new Error(`the gateway neither waited nor exited:\n${spawned.output()}`);
          await sleep(20);
        }
        await sleep(200);
        other.exec('ROLLBACK');
        for (;;) {
          const match = spawned.output().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
          if (match) {
            gateway.url = match[1] as string;
            break;
          }
          if (spawned.process.exitCode !== null || Date.now() > deadline) {
            throw new Error(`the gateway did not start:\n${spawned.output()}`);
          }
          await sleep(20);
        }
        // A new connection reads the mode from the file (an open one keeps the mode it began with).
        const reader = new Database(file, { readonly: true });
        expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
        reader.close();
        // A write, through the connection that waited.
        const created = await http(gateway.url, 'POST', '/chats/', {});
        expect(created.status).toBe(200);
        expect(created.json.title).toBe('New Chat');
      } finally {
        await stopGateway(gateway);
      }
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });
});
