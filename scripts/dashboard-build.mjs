// Builds the plans dashboard into dashboard/dist: tsc type-checks dashboard/src under the
// browser's lib (tsconfig.dashboard.json; with no Node types, so the pure domain code it
// imports from src/domain stays free of Node APIs), esbuild bundles it into one module
// (main.js, with its source map), and the static files (index.html, styles.css) are copied.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(root, 'dashboard', 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
try {
  execFileSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.dashboard.json')], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('dashboard:build: tsc failed (see above)');
  process.exit(1);
}
await build({
  entryPoints: [resolve(root, 'dashboard', 'src', 'main.ts')],
  outfile: resolve(outDir, 'main.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  sourcemap: true,
  logLevel: 'warning',
});
cpSync(resolve(root, 'dashboard', 'static'), outDir, { recursive: true });
console.log(`dashboard:build: built ${outDir.slice(root.length + 1)}`);
