// A CLI of src/cli as an operator runs it: a child process through tsx (as the npm scripts do).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { findProjectRoot } from '../../src/config/projectRoot.js';

const ROOT = findProjectRoot();
const TSX = resolve(ROOT, 'node_modules', '.bin', 'tsx');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs src/cli/<name>.ts with args and only PATH, HOME and `env` in its environment; never throws on a failed exit. */
export async function runCli(name: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  const base = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [resolve(ROOT, 'src', 'cli', `${name}.ts`), ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
