import { rm } from 'node:fs/promises';
import type { EmbeddedStore } from '../../src/store/embeddedStore.js';

export async function stopTestStore(): Promise<void> {
  const store = (globalThis as { __EMBEDDED_STORE__?: EmbeddedStore }).__EMBEDDED_STORE__;
  if (!store) return;
  await store.stop();
  if (process.env.TEST_STORE_DATA_DIR) await rm(process.env.TEST_STORE_DATA_DIR, { recursive: true, force: true });
}
