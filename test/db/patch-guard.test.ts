import { ConfigError, loadConfig, PRISMA_PATCHES } from '../../src/config';
import {
  installedVersion,
  PATCH_REQUIREMENTS,
  patchApplies,
  type VersionReader,
  versionMismatch,
} from '../../src/db/patches';

const pinned = (require('../../package.json') as { dependencies: Record<string, string> }).dependencies;

/** The installed versions, except the ones given. */
const versions =
  (overrides: Record<string, string | null>): VersionReader =>
  (pkg, loadedBy) =>
    pkg in overrides ? (overrides[pkg] as string | null) : installedVersion(pkg, loadedBy);

describe('the version guard of the Prisma patches', () => {
  it('finds every patch written for the installed versions, which are the ones package.json pins', () => {
    // After an upgrade this fails: check the patch against the new version (test/db/patches.test.ts),
    // then raise its version in src/db/patches/index.ts.
    for (const patch of PRISMA_PATCHES) {
      expect({ patch, mismatch: versionMismatch(patch) }).toEqual({ patch, mismatch: null });
      for (const requirement of PATCH_REQUIREMENTS[patch]) {
        expect({ package: requirement.package, pinned: pinned[requirement.package] }).toEqual({
          package: requirement.package,
          pinned: requirement.version,
        });
      }
    }
  });

  it('reads the version of the copy the adapter loads', () => {
    expect(installedVersion('better-sqlite3', '@prisma/adapter-better-sqlite3')).toBe(pinned['better-sqlite3']);
    expect(installedVersion('@prisma/adapter-better-sqlite3')).toBe(pinned['@prisma/adapter-better-sqlite3']);
    expect(installedVersion('no-such-package-here')).toBeNull();
  });

  it('names the package, the version expected and the version found', () => {
    expect(versionMismatch('plan-cache', versions({ '@prisma/client': '6.20.0' }))).toEqual({
      package: '@prisma/client',
      expected: pinned['@prisma/client'],
      found: '6.20.0',
    });
    expect(versionMismatch('sqlite-statements', versions({ 'better-sqlite3': '13.0.0' }))).toEqual({
      package: 'better-sqlite3',
      expected: pinned['better-sqlite3'],
      found: '13.0.0',
    });
    expect(versionMismatch('sqlite-statements', versions({ '@prisma/adapter-better-sqlite3': null }))).toMatchObject({
      package: '@prisma/adapter-better-sqlite3',
      found: null,
    });
    expect(versionMismatch('plan-cache', versions({ 'better-sqlite3': '13.0.0' }))).toBeNull();
  });

  it('turns a patch off on another version, with one warning', () => {
    const warn = jest.fn();
    const settings = { enabled: PRISMA_PATCHES, logger: { warn } };
    try {
      expect(patchApplies('plan-cache', settings)).toBe(true);
      expect(warn).not.toHaveBeenCalled();
      expect(patchApplies('plan-cache', settings, versions({ '@prisma/client': '7.0.0' }))).toBe(false);
      expect(patchApplies('plan-cache', { ...settings, enabled: [] })).toBe(false);
      expect(warn).toHaveBeenCalledTimes(1);
      const [fields, message] = warn.mock.calls[0] as unknown as [object, string];
      expect(fields).toEqual({
        patch: 'plan-cache',
        package: '@prisma/client',
        expected: pinned['@prisma/client'],
        found: '7.0.0',
      });
      expect(message).toBe(
        `Prisma patch plan-cache is off: written for @prisma/client ${pinned['@prisma/client']}, found 7.0.0`,
      );
    } finally {
      warn.mockReset();
    }
  });
});

describe('PRISMA_PATCHES', () => {
  const patches = (value?: string) => loadConfig(value === undefined ? {} : { PRISMA_PATCHES: value }).prismaPatches;

  it('is on by default, off, or a list', () => {
    expect(patches()).toEqual(['plan-cache', 'sqlite-statements']);
    expect(patches('on')).toEqual(['plan-cache', 'sqlite-statements']);
    expect(patches('OFF')).toEqual([]);
    expect(patches('sqlite-statements')).toEqual(['sqlite-statements']);
    expect(patches(' plan-cache , sqlite-statements ')).toEqual(['plan-cache', 'sqlite-statements']);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['yes', 'plan-cache,', 'plan_cache', 'all']) {
      expect(() => patches(bad)).toThrow(ConfigError);
      expect(() => patches(bad)).toThrow(/PRISMA_PATCHES/);
    }
  });
});
