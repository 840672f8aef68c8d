import { createGateway, type Gateway } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import type { Db } from '../../src/db/client';

/*
 * The gateway a test file talks to, built with createGateway like any other: on the test
 * environment (setup-env.ts: this file's own database, the admin key, quiet logs) plus the
 * settings the file asks for with `configureGateway`. Created before the file's first test and
 * closed after its last.
 */

type Settings = Record<string, string | undefined>;

let settings: Settings = {};
let pending: Promise<Gateway> | undefined;
let current: Gateway | undefined;

/** The test environment's configuration with `overrides` on top (undefined removes a setting). */
export function testConfig(overrides: Settings = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

/** Settings for this file's gateway; call at the top of the file, before any test runs. */
export function configureGateway(overrides: Settings): void {
  if (pending) throw new Error('configureGateway must be called before the gateway is first used');
  settings = overrides;
}

/** This file's gateway, created on first use. */
export function testGateway(): Promise<Gateway> {
  pending ??= createGateway(testConfig(settings)).then((gateway) => {
    current = gateway;
    return gateway;
  });
  return pending;
}

/** This file's gateway, once created (every test can use it: a beforeAll creates it). */
export function gateway(): Gateway {
  if (!current) throw new Error('the test gateway is not created yet: await testGateway() first');
  return current;
}

/** This file's database, through its gateway's client. */
export const db = (): Db => gateway().services.db;

beforeAll(async () => {
  await testGateway();
});

afterAll(async () => {
  const created = await pending?.catch(() => undefined);
  await created?.close();
});
