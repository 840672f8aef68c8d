import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { concurrentMarking } from '../../src/lib/gc';

// GC_CONCURRENT_MARKING (src/index.ts): V8's concurrent marking only with more than one CPU to run on.

jest.setTimeout(150_000);

const entry = path.resolve(__dirname, '..', '..', 'dist', 'src', 'index.js');
const LINE = /V8 marks the heap on the main thread/;

/** The first CPU this process may run on (Linux), to pin a child to one it surely has. */
function firstAllowedCpu(): string {
  const allowed = /Cpus_allowed_list:\s*(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return allowed?.[1] ?? '0';
}
const pinned = (): [string, string[]] => ['taskset', ['-c', firstAllowedCpu(), process.execPath, entry]];
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

/** The built server's output until it listens (then it is stopped), started as `command` with `args`. */
function startupOutput(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
    const child: ChildProcess = spawn(command, args, {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('error', reject);
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start within 30 s:\n${output}`));
    }, 30_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      if (/listening on http/.test(output)) child.kill('SIGTERM');
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.on('exit', () => {
      clearTimeout(timer);
      if (/listening on http/.test(output)) resolve(output);
      else reject(new Error(`the gateway did not start:\n${output}`));
    });
  });
}

describe('GC_CONCURRENT_MARKING', () => {
  it('auto: on with more than one CPU, off with one; on and off as set', () => {
    expect([1, 2, 64].map((cpus) => concurrentMarking('auto', cpus))).toEqual([false, true, true]);
    expect([1, 2].map((cpus) => concurrentMarking('on', cpus))).toEqual([true, true]);
    expect([1, 2].map((cpus) => concurrentMarking('off', cpus))).toEqual([false, false]);
  });

  it('is switched off in a server pinned to one CPU, and says so; left on otherwise', async () => {
    if (!hasTaskset) throw new Error('taskset (util-linux) is needed to pin the server to one CPU');
    const pinnedOutput = await startupOutput(...pinned(), {});
    expect(pinnedOutput).toMatch(LINE);
    expect(pinnedOutput).toMatch(/"cpus":1/);
    const off = await startupOutput(process.execPath, [entry], { GC_CONCURRENT_MARKING: 'off' });
    expect(off).toMatch(LINE);
    const forced = await startupOutput(...pinned(), { GC_CONCURRENT_MARKING: 'on' });
    expect(forced).not.toMatch(LINE);
    // Only where this machine has a second CPU to give.
    if (os.availableParallelism() > 1) {
      expect(await startupOutput(process.execPath, [entry], {})).not.toMatch(LINE);
    }
  });
});
