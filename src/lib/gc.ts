import type { Config } from '../config';

/**
 * Whether V8 should mark the heap on helper threads (GC_CONCURRENT_MARKING): `auto` only when the
 * process may run on more than one CPU (`os.availableParallelism()`, which counts the CPUs it is
 * pinned to). src/index.ts says why.
 */
export function concurrentMarking(setting: Config['gcConcurrentMarking'], cpus: number): boolean {
  return setting === 'on' || (setting === 'auto' && cpus > 1);
}
