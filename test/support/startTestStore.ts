import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embeddedStore.js';

/**
 * Starts one throwaway embedded store for the whole run (or uses MONGODB_URI when given).
 * Workers read TEST_MONGODB_URI; each test file then works in a database of its own.
 */
export async function startTestStore(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'renewal-defense-test-store-'));
  const store = await startEmbeddedStore({ dataDir, ...(process.env.TEST_STORE_DEBUG_ADDR ? { debugAddr: process.env.TEST_STORE_DEBUG_ADDR } : {}) });
  process.env.TEST_MONGODB_URI = store.uri;
  process.env.TEST_STORE_DATA_DIR = dataDir;
  (globalThis as { __EMBEDDED_STORE__?: EmbeddedStore }).__EMBEDDED_STORE__ = store;
}
