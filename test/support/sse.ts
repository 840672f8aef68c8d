/** A GraphQL subscription over Server-Sent Events, as a browser's EventSource would receive it. */
export async function subscribe(base: string, query: string, variables: Record<string, unknown> = {}, headers = {}) {
  const controller = new AbortController();
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  if (!res.body) throw new Error(`no event stream: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: unknown[] = [];
  // A read that timed out is kept for the next call, so no event is lost to a timeout.
  let pending: Promise<ReadableStreamReadResult<string>> | null = null;
  async function next(timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (queue.length > 0) return queue.shift();
      pending ??= reader.read();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no event in time')), Math.max(1, deadline - Date.now()));
      });
      const { value, done } = await Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
      pending = null;
      if (done) throw new Error('stream ended');
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (data) queue.push(JSON.parse(data));
        end = buffer.indexOf('\n\n');
      }
    }
  }
  return { status: res.status, next, close: () => controller.abort() };
}
