import fs from 'node:fs';
import path from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DatabaseConfig, PrismaPatch } from '../../config';
import type { Logger } from '../../http/logging';
import { cacheQueryPlans } from './plan-cache';
import { reuseStatements } from './sqlite-statements';

/*
 * Patches of library internals, for speed (README, "Performance"). Each was written against the
 * private code of exact versions, so it is applied only when those versions are installed:
 * after an upgrade it stays off (one warning in the log) until test/db/patches.test.ts passes
 * on the new version and the versions below are raised. PRISMA_PATCHES switches them off.
 */

type Requirement = {
  package: string;
  version: string;
  /** The package whose copy of `package` counts (the one it loads), if not the app's own. */
  loadedBy?: string;
};

export const PATCH_REQUIREMENTS: Readonly<Record<PrismaPatch, readonly Requirement[]>> = {
  // The generated client runs on @prisma/client's runtime, whose private fields the cache replaces.
  'plan-cache': [{ package: '@prisma/client', version: '6.19.3' }],
  'sqlite-statements': [
    { package: '@prisma/adapter-better-sqlite3', version: '6.19.3' },
    { package: 'better-sqlite3', version: '12.6.2', loadedBy: '@prisma/adapter-better-sqlite3' },
  ],
};

export type VersionReader = (pkg: string, loadedBy?: string) => string | null;

/** The version of `pkg` as Node resolves it (from `loadedBy`'s folder if given); null if absent. */
export const installedVersion: VersionReader = (pkg, loadedBy) => {
  try {
    const from = loadedBy === undefined ? __dirname : packageJson(loadedBy, require.resolve(loadedBy)).dir;
    const { json } = packageJson(pkg, require.resolve(pkg, { paths: [from] }));
    return typeof json.version === 'string' ? json.version : null;
  } catch {
    return null;
  }
};

/** The package.json of `pkg` above its resolved entry point (not every package exports it). */
function packageJson(pkg: string, entry: string): { dir: string; json: { name?: unknown; version?: unknown } } {
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (json.name === pkg) return { dir, json };
  }
  throw new Error(`no package.json of ${pkg} above ${entry}`);
}

/** Why `patch` must stay off with the installed versions (the first requirement not met), or null. */
export function versionMismatch(
  patch: PrismaPatch,
  installed: VersionReader = installedVersion,
): { package: string; expected: string; found: string | null } | null {
  for (const requirement of PATCH_REQUIREMENTS[patch]) {
    const found = installed(requirement.package, requirement.loadedBy);
    if (found !== requirement.version) return { package: requirement.package, expected: requirement.version, found };
  }
  return null;
}

/** What decides which patches apply: the PRISMA_PATCHES setting, and where to warn of a mismatch. */
export type PatchSettings = { enabled: readonly PrismaPatch[]; logger: Pick<Logger, 'warn'> };

/** Whether to apply `patch`: configured, and written for the installed versions (else one warning). */
export function patchApplies(
  patch: PrismaPatch,
  { enabled, logger }: PatchSettings,
  installed: VersionReader = installedVersion,
): boolean {
  if (!enabled.includes(patch)) return false;
  const mismatch = versionMismatch(patch, installed);
  if (mismatch === null) return true;
  logger.warn(
    { patch, ...mismatch },
    `Prisma patch ${patch} is off: written for ${mismatch.package} ${mismatch.expected}, found ${mismatch.found ?? 'none'}`,
  );
  return false;
}

/** The driver adapter factory with its patches (before the client is built on it). */
export function patchAdapter(
  factory: SqlMigrationAwareDriverAdapterFactory,
  database: DatabaseConfig,
  settings: PatchSettings,
): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'sqlite' && patchApplies('sqlite-statements', settings)) reuseStatements(factory);
  return factory;
}

/**
 * Whether the plan cache is on in this process, per generated client (database provider). It is
 * process-wide by nature: the cache wraps the query compiler's loader, which every client of a
 * provider shares, and Prisma's runtime keeps the first compiler it loads for the process. So the
 * first client decides, and a later one that wants otherwise is refused rather than silently
 * getting the first one's setting.
 */
const planCacheByProvider = new Map<DatabaseConfig['provider'], boolean>();

/** Applies the client's patches (before its first query). */
export function patchClient(client: object, database: DatabaseConfig, settings: PatchSettings): void {
  const wanted = patchApplies('plan-cache', settings);
  const decided = planCacheByProvider.get(database.provider);
  if (decided === undefined) {
    planCacheByProvider.set(database.provider, wanted);
    if (wanted) cacheQueryPlans(client, settings.logger);
  } else if (decided !== wanted) {
    throw new Error(
      `PRISMA_PATCHES: the plan cache is already ${decided ? 'on' : 'off'} for ${database.provider} in this process, and it is process-wide: every gateway in one process must use the same setting`,
    );
  }
}
