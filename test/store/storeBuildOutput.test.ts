// The store build's output reaches the person running `npm start`: the launcher passes on every
// line the build script prints (stdout and stderr), says "still building" while it is quiet, and
// a failed build names the script and its last lines. Stand-in scripts play the build (the real
// one takes minutes); the real script's up-to-date path is checked too.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureFerretdbBinary } from '../../src/store/embeddedStore.js';

describe('ensureFerretdbBinary: the build script output', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes on each line from stdout and stderr, with a heartbeat while the build is quiet', async () => {
    const script = join(dir, 'slow-build.sh');
    await writeFile(script, 'echo "build-ferretdb: building FerretDB (once; about two minutes)…" >&2\nsleep 0.5\necho "go: vendoring"\nprintf "no newline at the end" >&2\n');
    const lines: string[] = [];
    await ensureFerretdbBinary({ script, onOutput: (line) => lines.push(line), heartbeatMs: 150 });
    expect(lines[0]).toBe('build-ferretdb: building FerretDB (once; about two minutes)…');
    expect(lines).toContain('go: vendoring');
    expect(lines).toContain('no newline at the end');
    expect(lines.some((l) => /^build-ferretdb: still building \(\d+ s\)…$/.test(l))).toBe(true);
  });

  it('says nothing when the binary is current (the script is silent)', async () => {
    const script = join(dir, 'current.sh');
    await writeFile(script, 'exit 0\n');
    const lines: string[] = [];
    await ensureFerretdbBinary({ script, onOutput: (line) => lines.push(line), heartbeatMs: 10 });
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toEqual([]);
  });

  it('a failing build rejects with the script and its last lines', async () => {
    const script = join(dir, 'broken.sh');
    await writeFile(script, 'echo "build-ferretdb: the Go toolchain is needed" >&2\nexit 3\n');
    await expect(ensureFerretdbBinary({ script, onOutput: () => undefined })).rejects.toThrow(/broken\.sh failed \(exit 3\):\nbuild-ferretdb: the Go toolchain is needed/);
  });

  it('the real build script, with the binary built, is quick and silent', async () => {
    const lines: string[] = [];
    const binary = await ensureFerretdbBinary({ onOutput: (line) => lines.push(line) });
    expect(binary).toMatch(/\.bin\/ferretdb$/);
    expect(lines).toEqual([]);
  });
});
