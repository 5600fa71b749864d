// Builds the plans dashboard into dashboard/dist: compiles dashboard/src/*.ts with tsc
// (tsconfig.dashboard.json) and copies the static files (index.html, styles.css).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
cpSync(resolve(root, 'dashboard', 'static'), outDir, { recursive: true });
console.log(`dashboard:build: built ${outDir.slice(root.length + 1)}`);
