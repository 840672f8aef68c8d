import type { Duplex } from 'node:stream';
import type { Logger } from './logging';
import { JSON_CSP, SECURITY_HEADERS } from './security';

const ANSWERS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Request body too large'],
};

/**
 * Node's server answers what it refuses itself (a request that is malformed, or too slow for
 * REQUEST_TIMEOUT_MS) with a bare status line. This answers with a JSON `{"detail"}` and the
 * security headers instead, then closes the connection, as Node's default handler does.
 */
export function answerClientError(
  logger: Pick<Logger, 'info'>,
  error: Error & { code?: string },
  socket: Duplex,
): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const [status, text] = ANSWERS[error.code ?? ''] ?? [400, 'Bad Request'];
    logger.info({ code: error.code, status }, 'connection refused by the HTTP parser or a timeout');
    const body = JSON.stringify({ detail: text });
    const headers = {
      ...SECURITY_HEADERS,
      'content-security-policy': JSON_CSP,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${text}\r\n${lines.join('')}\r\n${body}`);
  }
  socket.destroy();
}
