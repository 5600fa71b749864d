import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const { stopTestStore } = await tsImport('./stopTestStore.ts', import.meta.url);
  await stopTestStore();
}
