// A clean install: the committed package-lock.json agrees with package.json, which is what
// `npm ci` insists on (it refuses a lock whose root entry differs from package.json). .ci/run
// also fails when `npm install` rewrites the lock file; this test catches the mismatch offline.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { findProjectRoot } from '../../src/config/projectRoot.js';

const ROOT = findProjectRoot();
const read = (file: string) => JSON.parse(readFileSync(resolve(ROOT, file), 'utf8')) as Record<string, unknown>;

describe('package-lock.json', () => {
  const pkg = read('package.json') as { name: string; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string>; engines?: unknown };
  const lock = read('package-lock.json') as { name: string; version: string; lockfileVersion: number; packages: Record<string, { version?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; engines?: unknown }> };

  it('has the root entry of package.json (name, version, every dependency with its range)', () => {
    expect(lock.lockfileVersion).toBe(3);
    const rootEntry = lock.packages[''];
    expect({ name: lock.name, version: lock.version }).toEqual({ name: pkg.name, version: pkg.version });
    expect(rootEntry?.dependencies).toEqual(pkg.dependencies);
    expect(rootEntry?.devDependencies).toEqual(pkg.devDependencies);
    expect(rootEntry?.engines).toEqual(pkg.engines);
  });

  it('locks a version of each direct dependency', () => {
    for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]) {
      expect({ name, version: lock.packages[`node_modules/${name}`]?.version }).toEqual({ name, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    }
  });
});
