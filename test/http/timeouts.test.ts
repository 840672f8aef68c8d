// Slow clients against a real server process with REQUEST_TIMEOUT_MS=1000: a request that takes
// longer to arrive is cut with a JSON 408, while a long-lived response (SSE) is not.
import net from 'node:net';
import { type Gateway, startGateway } from '../support/gateway-process';
import { subscribe } from '../support/sse';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ REQUEST_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  gateway?.process.kill('SIGTERM');
  await gateway?.exited;
});

const DRIP_MS = 200;
const MAX_DRIPS = 75; // 15 s: far past the timeout, and a bound if the server never cuts

type Outcome = { received: string; dripped: number; closedByServer: boolean };

/** Sends `head` at once, then one byte every DRIP_MS (slower than any sane client), until the server closes. */
function slowClient(head: string): Promise<Outcome> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    let dripped = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      clearInterval(timer);
      socket.destroy();
      resolve({ received, dripped, closedByServer });
    };
    socket.setEncoding('utf8');
    socket.on('data', (data) => {
      received += data;
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (dripped >= MAX_DRIPS) return finish(false);
        dripped++;
        socket.write('a');
      }, DRIP_MS);
    });
  });
}

function expectJson408(outcome: Outcome) {
  expect(outcome.closedByServer).toBe(true);
  expect(outcome.received).toMatch(/^HTTP\/1\.1 408 /);
  const [headers = '', body] = outcome.received.split('\r\n\r\n');
  expect(headers).toMatch(/\r\ncontent-type: application\/json\r\n/i);
  expect(headers).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
  expect(JSON.parse(body ?? '')).toEqual({ detail: 'Request Timeout' });
}

describe('REQUEST_TIMEOUT_MS', () => {
  it('cuts a client that sends its body byte by byte', async () => {
    const head =
      'POST /chats/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';
    expectJson408(await slowClient(head));
  }, 30_000);

  it('cuts a client that sends its headers byte by byte', async () => {
    expectJson408(await slowClient('GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: '));
  }, 30_000);

  it('does not cut a Server-Sent Events response that lasts longer', async () => {
    const post = (path: string, body: object) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const chat = await post('/chats/', {});
    const sub = await subscribe(gateway.url, 'subscription($c: Int!) { message_added(chat_id: $c) { content } }', {
      c: chat.chat_id,
    });
    try {
      expect(sub.status).toBe(200);
      // Several timeouts (and the server's checks for them) go by with the response still open.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await post(`/chats/${chat.chat_id}/messages`, { content: 'still here', sender: 'ai' });
      expect(await sub.next()).toEqual({ data: { message_added: { content: 'still here' } } });
    } finally {
      sub.close();
    }
  }, 30_000);
});

describe('requests Node’s parser refuses', () => {
  it('are answered with a JSON 400 and the security headers', async () => {
    const { port } = new URL(gateway.url);
    const received = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('close', () => resolve(data));
      socket.on('error', () => undefined);
    });
    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    expect(received).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
    expect(JSON.parse(received.split('\r\n\r\n')[1] ?? '')).toEqual({ detail: 'Bad Request' });
  });
});
