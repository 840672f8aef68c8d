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
  async function next(timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (queue.length > 0) return queue.shift();
      const read = reader.read();
      const timer = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no event in time')), Math.max(1, deadline - Date.now())),
      );
      const { value, done } = await Promise.race([read, timer]);
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
