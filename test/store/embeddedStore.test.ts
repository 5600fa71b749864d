import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { isEmbeddedStoreUri, startEmbeddedStore } from '../../src/store/embeddedStore.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** pids of the guard's children (the FerretDB process), read from /proc. */
const childrenOf = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);

describe('embedded store launcher', () => {
  it('starts FerretDB on a free loopback port, keeps data across restarts, and stops it by pid', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'launcher-test-'));
    try {
      const first = await startEmbeddedStore({ dataDir });
      expect(first.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?appName=renewal-defense-embedded-ferretdb$/);
      expect(isEmbeddedStoreUri(first.uri)).toBe(true);
      const ferretPids = childrenOf(first.pid);
      expect(ferretPids.length).toBeGreaterThan(0);
      const client = new MongoClient(first.uri);
      await client.db('launcher').collection('c').insertOne({ _id: 'kept' } as never);
      await client.close();
      await first.stop();
      expect(alive(first.pid)).toBe(false);
      for (const pid of ferretPids) expect(alive(pid)).toBe(false);

      const second = await startEmbeddedStore({ dataDir });
      const again = new MongoClient(second.uri);
      expect(await again.db('launcher').collection('c').countDocuments({ _id: 'kept' } as never)).toBe(1);
      await again.close();
      await second.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves no FerretDB behind when its parent is SIGKILLed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'launcher-orphan-'));
    try {
      // A parent process that starts the store, prints the guard pid, then waits to be killed.
      const script = `
        import { startEmbeddedStore } from ${JSON.stringify(new URL('../../src/store/embeddedStore.ts', import.meta.url).pathname)};
        const s = await startEmbeddedStore({ dataDir: ${JSON.stringify(dataDir)} });
        console.log(s.pid);
        setInterval(() => {}, 1000);`;
      const { spawn } = await import('node:child_process');
      const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const guardPid = await new Promise<number>((resolve, reject) => {
        parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
        parent.once('exit', (code) => reject(new Error(`parent exited early: ${code}`)));
      });
      const ferretPids = childrenOf(guardPid);
      expect(ferretPids.length).toBeGreaterThan(0);
      parent.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && [guardPid, ...ferretPids].some(alive)) await new Promise((r) => setTimeout(r, 100));
      expect([guardPid, ...ferretPids].filter(alive)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
