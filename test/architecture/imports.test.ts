import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { findProjectRoot } from '../../src/config/projectRoot.js';

// The layering of src/ (README, "Project layout"): each layer imports only from layers below it.
// config, observability and runtime are importable from everywhere and import only the domain (and each
// other); auth sits beside the store, on the domain. No exceptions are allowed.
const LAYERS: Record<string, number> = {
  domain: 0,
  store: 1,
  auth: 1,
  services: 2,
  // Codegen's types map services' and the store's models, and graphql/resolvers use them. The
  // generated file itself is not scanned: its one upward import is the context type codegen.yml names.
  generated: 2.5,
  graphql: 3,
  resolvers: 4,
  server: 5,
  cli: 6,
  'main.ts': 6,
};
const ANYWHERE = new Set(['config', 'observability', 'runtime']);

const root = findProjectRoot();
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative import and export specifiers of a module (static, dynamic and type-only). */
export function relativeSpecifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\1/g)) found.push(m[2] as string);
  return found;
}

/** The room of a file under src/: its top folder, or the file itself at the top. */
const roomOf = (file: string): string => relative(src, file).split(/[\\/]/)[0] as string;

/** Why `from` may not import `to`, or null when it may. */
export function violation(from: string, to: string): string | null {
  if (from === to) return null;
  if (ANYWHERE.has(from)) return ANYWHERE.has(to) || to === 'domain' ? null : `${from} is importable from anywhere, so it imports only domain`;
  if (ANYWHERE.has(to)) return null;
  const a = LAYERS[from];
  const b = LAYERS[to];
  if (a === undefined || b === undefined) return `${from} -> ${to}: a room the layer table does not know`;
  return b < a ? null : `${from} (layer ${a}) may not import ${to} (layer ${b})`;
}

describe('imports run one way: domain <- store <- services <- graphql <- resolvers <- server', () => {
  it('no file under src/ imports a room above its own (or a room the layer table does not list)', () => {
    const files = sourceFiles(src);
    expect(files.length).toBeGreaterThan(50);
    const upward: string[] = [];
    for (const file of files) {
      for (const spec of relativeSpecifiers(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(src)) {
          upward.push(`${relative(root, file)} imports ${spec}, outside src/`);
          continue;
        }
        const why = violation(roomOf(file), roomOf(target));
        if (why) upward.push(`${relative(root, file)} imports ${spec}: ${why}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("services use the store only through its public face, src/store/index.ts", () => {
    const inner: string[] = [];
    for (const file of sourceFiles(join(src, 'services'))) {
      for (const spec of relativeSpecifiers(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), spec);
        if (roomOf(target) === 'store' && relative(src, target) !== join('store', 'index.js')) inner.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    expect(inner).toEqual([]);
  });

  // Pure computation only: validation (zod), hashing (node:crypto) and IP address parsing
  // (ipaddr.js, for the webhook address rules); no driver, files or network.
  const DOMAIN_PACKAGES = new Set(['zod', 'node:crypto', 'ipaddr.js', 'uuid']);
  it('the domain is pure: besides itself it imports only zod, node:crypto, ipaddr.js and uuid (no driver, no I/O)', () => {
    const packages = sourceFiles(join(src, 'domain')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bfrom\s*(['"])([^.'"][^'"]*)\1/g)].map((m) => `${relative(root, file)}: ${m[2] as string}`),
    );
    expect(packages.filter((p) => !DOMAIN_PACKAGES.has(p.slice(p.lastIndexOf(': ') + 2)))).toEqual([]);
    expect(packages.length).toBeGreaterThan(0);
  });

  it('the check sees upward, sideways and unknown imports (so it can fail)', () => {
    expect(relativeSpecifiers(`import { a } from '../store/x.js';\nimport type { B } from "./b.js";\nexport { c } from '../c.js';\nconst d = await import('../d.js');\nimport 'zod';`)).toEqual([
      '../store/x.js',
      './b.js',
      '../c.js',
      '../d.js',
    ]);
    expect(violation('store', 'services')).toMatch(/may not import/);
    expect(violation('graphql', 'server')).toMatch(/may not import/);
    expect(violation('store', 'auth')).toMatch(/may not import/);
    expect(violation('observability', 'services')).toMatch(/only domain/);
    expect(violation('services', 'somewhere')).toMatch(/does not know/);
    expect(violation('services', 'store')).toBeNull();
    expect(violation('server', 'config')).toBeNull();
    expect(violation('domain', 'domain')).toBeNull();
  });
});
