// Jest loads global setup with Node's own ESM loader (no moduleNameMapper), so the TypeScript
// launcher is loaded through tsx here.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { startTestStore } = await tsImport('./startTestStore.ts', import.meta.url);
  await startTestStore();
}
