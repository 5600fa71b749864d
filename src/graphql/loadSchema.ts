import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../config/projectRoot.js';

/** The SDL of schema/*.graphql, the single source of truth of the API. */
export function loadTypeDefs(): string {
  const dir = join(findProjectRoot(), 'schema');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}
