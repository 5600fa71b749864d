// Builds the development GraphQL IDE into ide/dist: GraphiQL (React, Monaco) and Monaco's three
// web workers bundled by esbuild from node_modules, plus ide/static. Nothing loads from a CDN.
// Skips the work when its inputs are unchanged since the last build (a content stamp), so a
// restart does not pay for it; --force rebuilds.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(root, 'ide', 'dist');
const assets = join(outDir, 'assets');
const stampFile = join(outDir, '.build-stamp');

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** A hash over every input: the IDE's sources, the lock file (package versions), this script. */
function inputStamp() {
  const hash = createHash('sha256');
  const inputs = [...filesUnder(resolve(root, 'ide', 'src')), ...filesUnder(resolve(root, 'ide', 'static')), resolve(root, 'package-lock.json'), fileURLToPath(import.meta.url)].sort();
  for (const file of inputs) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const stamp = inputStamp();
const force = process.argv.includes('--force');
if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(join(assets, 'main.js'))) {
  console.log('ide:build: up to date (ide/dist)');
  process.exit(0);
}

const started = Date.now();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  target: 'es2022',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  absWorkingDir: root,
};
try {
  await Promise.all([
    build({
      ...common,
      entryPoints: { main: 'ide/src/main.ts' },
      outdir: assets,
      // One file: with code splitting, the CSS of lazily imported modules (Monaco's) would
      // land in chunk files that nothing loads.
      format: 'esm',
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl' },
      assetNames: '[name]-[hash]',
    }),
    build({
      ...common,
      entryPoints: {
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
      },
      outdir: assets,
      format: 'iife',
    }),
  ]);
} catch (e) {
  console.error(`ide:build: esbuild failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
cpSync(resolve(root, 'ide', 'static'), outDir, { recursive: true });
writeFileSync(stampFile, stamp);
const bytes = filesUnder(assets).reduce((sum, f) => sum + statSync(f).size, 0);
console.log(`ide:build: built ide/dist in ${Date.now() - started} ms (${(bytes / 1024 / 1024).toFixed(1)} MiB of assets)`);
