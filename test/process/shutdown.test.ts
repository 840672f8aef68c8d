import { type Gateway, http, startGateway } from '../support/gateway-process';
import { call } from '../support/http';

describe('SIGTERM', () => {
  it('finishes the writes in flight, keeps every acknowledged one, and exits 0', async () => {
    const gateway: Gateway = await startGateway();
    const chat = (await http(gateway.url, 'POST', '/chats/', {})).json;
    const acknowledged: number[] = [];
    const failures: string[] = [];
    let sent = 0;
    // 8 writers, each sending one message after another, until the server stops answering.
    const writer = async () => {
      for (;;) {
        const n = sent++;
        try {
          const r = await http(gateway.url, 'POST', `/chats/${chat.chat_id}/messages`, {
            content: `m${n}`,
            sender: 'user',
          });
          if (r.status === 200) acknowledged.push(r.json.message_id);
          else failures.push(`${r.status}`);
        } catch {
          return; // refused or reset: the server is gone, and this write was not acknowledged
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    gateway.process.kill('SIGTERM');
    const code = await gateway.exited;
    await Promise.all(writers);

    expect(code).toBe(0);
    expect(gateway.output()).toMatch(/"msg":"stopped"/);
    // Drained, not cut off by the shutdown timeout: keep-alive clients were told to go.
    expect(gateway.output()).not.toMatch(/still running/);
    expect(failures).toEqual([]);
    const stored = (await call('GET', `/chats/${chat.chat_id}`)).json.messages.map(
      (m: { message_id: number }) => m.message_id,
    );
    expect(stored).toEqual(expect.arrayContaining(acknowledged));
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
  });
});
