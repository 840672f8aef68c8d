import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config';

let version: string | undefined;

/** This service's version, from package.json (the OpenAPI document and traces carry it). */
export function packageVersion(): string {
  version ??= (JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
  return version;
}
