import { type Gateway, http, startGateway } from '../support/gateway-process';
import { call } from '../support/http';
import { subscribe } from '../support/sse';

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

  it('ends live-update streams with a last event at once, instead of waiting out the timeout and cutting them', async () => {
    const gateway: Gateway = await startGateway({ SHUTDOWN_TIMEOUT_MS: '30000' });
    const chat = (await http(gateway.url, 'POST', '/chats/', {})).json;
    const sub = await subscribe(gateway.url, 'subscription($c: Int!) { message_added(chat_id: $c) { content } }', {
      c: chat.chat_id,
    });
    expect(sub.status).toBe(200);
    await http(gateway.url, 'POST', `/chats/${chat.chat_id}/messages`, { content: 'before', sender: 'user' });
    expect((await sub.next()).data.message_added.content).toBe('before');

    const started = Date.now();
    gateway.process.kill('SIGTERM');
    const last = await sub.next();
    expect(last.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(last.errors[0].message).toMatch(/shutting down; subscribe again/);
    // Then the stream completes (Yoga's `complete` event) and the response ends.
    await expect(sub.next()).rejects.toThrow('stream ended');
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(gateway.output()).not.toMatch(/still running/);
  });
});
