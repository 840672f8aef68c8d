// Bodies without a Content-Length (chunked) against a real server process: the size limit must
// cut them while they stream in, on REST and on /graphql, and leave the server serving.
import http from 'node:http';
import { type Gateway, startGateway } from '../support/gateway-process';

const LIMIT = 1_048_576;
const SENT_AT_MOST = 8 * LIMIT;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ MAX_BODY_BYTES: String(LIMIT) });
});
afterAll(async () => {
  gateway?.process.kill('SIGTERM');
  await gateway?.exited;
});

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; sent: number };
/** The server closed the connection before its answer reached the client (see `answerOf`). */
type Cut = { cut: true; sent: number; error: string };

/**
 * POSTs a body of up to SENT_AT_MOST bytes in chunks (`transfer-encoding: chunked`, no
 * Content-Length), and stops writing as soon as the server answers.
 */
function chunkedPost(path: string, contentType: string, head: string): Promise<Answer | Cut> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
    });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (part) => {
        body += part;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, sent }));
      response.on('error', reject);
    });
    // Once answered, the server may close while we still write: that is the point, not a failure.
    request.on('error', (error) => {
      if (!answered) resolve({ cut: true, sent, error: error.message });
    });
    request.write(head);
    const pump = () => {
      while (!answered && sent < SENT_AT_MOST) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      if (!answered) request.end('"}');
    };
    pump();
  });
}

/**
 * The 413 of a chunked POST. A server that answers early and closes can race the client still
 * writing: the client's kernel may then drop the answer (a reset) before it is read. That is the
 * nature of answering an upload early, so an attempt may end in a cut connection, but only once
 * the client has sent more than the limit; a few attempts must see the 413 itself.
 */
async function answerOf(path: string, head: string): Promise<Answer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await chunkedPost(path, 'application/json', head);
    if (!('cut' in result)) return result;
    expect(result.sent).toBeGreaterThan(LIMIT);
  }
  throw new Error('five chunked POSTs over the limit and no 413 reached the client');
}

async function stillServes() {
  const health = await fetch(`${gateway.url}/health`);
  expect(health.status).toBe(200);
  const chat = await fetch(`${gateway.url}/chats/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(chat.status).toBe(200);
}

describe('a chunked body over MAX_BODY_BYTES', () => {
  it('is 413 {"detail"} on REST, and the connection is closed', async () => {
    const answer = await answerOf('/chats/users', '{"username":"');
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({ detail: 'Request body too large' });
    expect(answer.headers.connection).toBe('close');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    await stillServes();
  });

  it('is 413 with a GraphQL error PAYLOAD_TOO_LARGE on /graphql, and the connection is closed', async () => {
    const answer = await answerOf('/graphql', '{"query":"{ chats { chat_id } }","x":"');
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    expect(answer.headers.connection).toBe('close');
    await stillServes();
  });
});
