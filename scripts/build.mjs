// `npm run build` (and so `npm start`): codegen, tsc, the dashboard and the IDE, each skipped
// when its inputs are unchanged since it last succeeded (a content hash per step, kept in
// dist/.build-stamps/), so a restart with nothing changed starts in seconds. tsc also runs with
// --incremental, so a change recompiles only what it touches. --force runs every step;
// BUILD_STAMPS_DIR puts the stamps elsewhere.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stamps = process.env.BUILD_STAMPS_DIR ? resolve(process.env.BUILD_STAMPS_DIR) : join(root, 'dist', '.build-stamps');
const require = createRequire(import.meta.url);
const node = process.execPath;
const force = process.argv.includes('--force');
/** --only <step>: run just that step (the test of this script uses it). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;

/** Each step: what it reads, the file(s) it writes (one missing = rebuild), and the command. */
const STEPS = [
  {
    name: 'codegen',
    inputs: ['schema', 'codegen.yml', 'dashboard/src/queries.ts', 'package-lock.json'],
    output: ['src/generated/graphql.ts', 'dashboard/src/generated/operations.ts'],
    command: [join(root, 'node_modules', '.bin', 'graphql-codegen'), '--config', 'codegen.yml', '--silent'],
  },
  {
    name: 'tsc',
    inputs: ['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    output: 'dist/src/main.js',
    command: [node, require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'],
  },
  {
    name: 'dashboard',
    inputs: ['dashboard/src', 'dashboard/static', 'src/domain', 'tsconfig.dashboard.json', 'scripts/dashboard-build.mjs', 'package-lock.json'],
    output: 'dashboard/dist/index.html',
    command: [node, 'scripts/dashboard-build.mjs'],
  },
  {
    name: 'ide',
    inputs: ['ide/src', 'ide/static', 'scripts/ide-build.mjs', 'package-lock.json'],
    output: 'ide/dist/index.html',
    command: [node, 'scripts/ide-build.mjs'],
  },
];

function filesOf(path) {
  const full = resolve(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => filesOf(join(path, e.name)));
}

function stampOf(step) {
  const hash = createHash('sha256').update(step.command.slice(1).join(' ')).update('\0');
  for (const file of step.inputs.flatMap(filesOf).sort()) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const started = Date.now();
const report = [];
for (const step of STEPS.filter((s) => only === null || s.name === only)) {
  const stampFile = join(stamps, step.name);
  const stamp = stampOf(step);
  if (!force && [step.output].flat().every((file) => existsSync(resolve(root, file))) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    report.push(`${step.name} up to date`);
    continue;
  }
  const stepStarted = Date.now();
  const result = spawnSync(step.command[0], step.command.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: ${step.name} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
    process.exit(1);
  }
  mkdirSync(stamps, { recursive: true });
  writeFileSync(stampFile, stamp);
  report.push(`${step.name} ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`);
}
console.log(`build: ${report.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
