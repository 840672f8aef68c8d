import Database from 'better-sqlite3';
// Crash safety: SIGKILL the gateway in the middle of a burst of writes, start a new process on the
// same database, and every write that was acknowledged with a 200 must be there, three times over.
import { type Gateway, http, startGateway } from '../support/gateway-process';

const isSqlite = process.env.DATABASE_URL?.startsWith('file:') ?? false;

const CYCLES = 3;
const WRITERS = 8;

type AckedChat = { chat_id: number; user_id: number };
type AckedMessage = { chat_id: number; message_id: number; content: string };

/**
 * PRAGMA integrity_check on a connection opened now, as the next process would open the file
 * (this process' long-lived connection caches FTS5 structure that the killed server changed).
 */
async function integrityCheck(): Promise<unknown> {
  const db = new Database((process.env.DATABASE_URL as string).replace(/^file:/, ''));
  try {
    return db.pragma('integrity_check');
  } finally {
    db.close();
  }
}

/** Every acknowledged chat and message, read back over HTTP from a fresh process. */
async function missingWrites(base: string, chats: AckedChat[], messages: AckedMessage[]): Promise<string[]> {
  const missing: string[] = [];
  const byChat = new Map<number, AckedMessage[]>();
  for (const m of messages) byChat.set(m.chat_id, [...(byChat.get(m.chat_id) ?? []), m]);
  for (let i = 0; i < chats.length; i += 20) {
    await Promise.all(
      chats.slice(i, i + 20).map(async (chat) => {
        const r = await http(base, 'GET', `/chats/${chat.chat_id}?user_id=${chat.user_id}`);
        if (r.status !== 200) {
          missing.push(`chat ${chat.chat_id}: HTTP ${r.status}`);
          return;
        }
        if (r.json.user_id !== chat.user_id) missing.push(`chat ${chat.chat_id}: owner ${r.json.user_id}`);
        const stored = new Map<number, string>(
          r.json.messages.map((m: { message_id: number; content: string }) => [m.message_id, m.content]),
        );
        for (const m of byChat.get(chat.chat_id) ?? []) {
          if (stored.get(m.message_id) !== m.content) missing.push(`message ${m.message_id} of chat ${chat.chat_id}`);
        }
      }),
    );
  }
  return missing;
}

describe('crash safety', () => {
  it(`keeps every acknowledged write through ${CYCLES} SIGKILLs in the middle of write bursts`, async () => {
    let gateway: Gateway = await startGateway();
    try {
      const email = `crash-${process.pid}-${Date.now()}@example.com`;
      const user = (await http(gateway.url, 'POST', '/chats/users', { username: 'crash', email })).json;
      const first = (await http(gateway.url, 'POST', '/chats/', { user_id: user.user_id })).json;
      const chats: AckedChat[] = [{ chat_id: first.chat_id, user_id: user.user_id }];
      const messages: AckedMessage[] = [];
      const report: string[] = [];

      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const base = gateway.url;
        const ackedBefore = chats.length + messages.length;
        let killed = false;
        let sent = 0;
        let refused = 0;
        const failures: string[] = [];
        // Each writer adds messages to acknowledged chats and, every fourth write, creates a chat.
        const writer = async (w: number) => {
          for (let i = 0; !killed; i++) {
            const n = sent++;
            try {
              if (i % 4 === 3) {
                const r = await http(base, 'POST', '/chats/', { user_id: user.user_id });
                if (r.status === 200) chats.push({ chat_id: r.json.chat_id, user_id: user.user_id });
                else failures.push(`create chat: ${r.status}`);
              } else {
                const chat = chats[(n * 7919) % chats.length] as AckedChat;
                const content = `cycle ${cycle} writer ${w} #${n} ✓ 数据 🚀`;
                const r = await http(base, 'POST', `/chats/${chat.chat_id}/messages?user_id=${user.user_id}`, {
                  content,
                  sender: n % 2 ? 'ai' : 'user',
                });
                if (r.status === 200) messages.push({ chat_id: chat.chat_id, message_id: r.json.message_id, content });
                else failures.push(`add message: ${r.status}`);
              }
            } catch {
              refused++; // reset or refused: the process is gone and this write was not acknowledged
              return;
            }
          }
        };
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
        // Kill at a different point of each burst, with all writers busy.
        const killAfter = 60 + Math.floor(Math.random() * 100);
        const deadline = Date.now() + 10_000;
        while (chats.length + messages.length - ackedBefore < killAfter && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        gateway.process.kill('SIGKILL');
        await gateway.exited;
        killed = true;
        await Promise.all(writers);
        expect(failures).toEqual([]);
        expect(chats.length + messages.length - ackedBefore).toBeGreaterThanOrEqual(killAfter);

        // The file as the killed process left it (the WAL not yet folded in by anyone).
        if (isSqlite) expect(await integrityCheck()).toEqual([{ integrity_check: 'ok' }]);

        gateway = await startGateway();
        expect(await missingWrites(gateway.url, chats, messages)).toEqual([]);
        if (isSqlite) expect(await integrityCheck()).toEqual([{ integrity_check: 'ok' }]);
        report.push(
          `cycle ${cycle}: ${chats.length + messages.length - ackedBefore} acknowledged, ${sent} sent, ${refused} cut off`,
        );
      }
      // Still serving writes after the last crash.
      const after = await http(gateway.url, 'POST', `/chats/${first.chat_id}/messages?user_id=${user.user_id}`, {
        content: 'after the crashes',
        sender: 'user',
      });
      expect(after.status).toBe(200);
      console.log(
        `crash: ${CYCLES} SIGKILL cycles survived on ${isSqlite ? 'SQLite' : 'PostgreSQL'}; ${chats.length} chats and ${messages.length} messages acknowledged and found (${report.join('; ')})`,
      );
    } finally {
      gateway.process.kill('SIGKILL');
      await gateway.exited;
    }
  }, 30_000);
});
