import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const entry = path.join(root, 'dist', 'src', 'index.js');

export type Gateway = {
  url: string;
  process: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
};

/** Every gateway this test file started, so that test/support/after-env.ts can read their logs at the end. */
export const started: Gateway[] = [];

export type Spawned = Pick<Gateway, 'process' | 'output' | 'exited'>;

/** Runs the built server (`npm run build`) as its own process, collecting its output; does not wait for it. */
export function spawnGateway(env: Record<string, string> = {}): Spawned {
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

/** Starts the built server on a free port, with this test file's database, and waits until it listens. */
export async function startGateway(env: Record<string, string> = {}): Promise<Gateway> {
  const { process: child, output, exited } = spawnGateway(env);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = output().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (match) {
      const gateway = { url: match[1] as string, process: child, output, exited };
      started.push(gateway);
      return gateway;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function http(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Lines a gateway writes only when something escaped every handler: none may appear in a test. */
export const ESCAPED = /unhandled promise rejection|uncaught exception|UnhandledPromiseRejection|RepeaterOverflowError/;

/** The lines of a gateway's log that say an error escaped every handler. */
export const escapedErrors = (gateway: Gateway) =>
  gateway
    .output()
    .split('\n')
    .filter((line) => ESCAPED.test(line));

/** Stops a gateway (SIGTERM, as in production) and fails if it ever logged an escaped error. */
export async function stopGateway(gateway: Gateway | undefined): Promise<void> {
  if (!gateway) return;
  if (gateway.process.exitCode === null) gateway.process.kill('SIGTERM');
  await gateway.exited;
  const escaped = escapedErrors(gateway);
  if (escaped.length > 0) throw new Error(`the gateway logged errors nothing handled:\n${escaped.join('\n')}`);
}
