import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A development key kept in DATA_DIR (mode 0600): generated once by `generate`, then read on
 * every start, so what it signed or sealed stays valid across restarts. Never for production,
 * where keys come from the environment.
 */
export function devKeyFromDataDir(dataDir: string, fileName: string, generate: () => string, logger: { warn(obj: object, msg: string): void }, what: string): string {
  const dir = resolve(dataDir);
  const file = join(dir, fileName);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, `generated a development ${what}`);
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}
