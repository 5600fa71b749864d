// npm run ledger:export -- --tenant <id> [--out log.jsonl] [--tree-size n]
// Writes a tenant's log as JSON lines for `npm run ledger:verify`: the checkpoints, then each
// leaf's entry in log order. Reads MONGODB_URI (MONGODB_DB); without it, the embedded store in
// DATA_DIR (stop the service first: the embedded store serves one process).
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/env.js';
import { parsePrivateKey } from '../config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../services/ledgerLog/checkpointSigner.js';
import { LedgerLogService } from '../services/ledgerLog/LedgerLogService.js';
import { startEmbeddedStore } from '../store/embeddedStore.js';
import { LedgerLogStore } from '../store/ledgerLog/LedgerLogStore.js';
import { connectMongo } from '../store/mongoConnection.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tenant: { type: 'string' }, out: { type: 'string' }, 'tree-size': { type: 'string' } } });
  if (!values.tenant) throw new Error('usage: ledger:export --tenant <id> [--out log.jsonl] [--tree-size n]');
  const config = loadConfig();
  const embedded = config.MONGODB_URI ? null : await startEmbeddedStore({ dataDir: resolve(config.DATA_DIR, 'ferretdb') });
  const mongo = await connectMongo(config.MONGODB_URI ?? (embedded as NonNullable<typeof embedded>).uri, config.MONGODB_DB);
  try {
    // Exporting reads and signs nothing: the service needs a signer only for its other methods.
    const service = new LedgerLogService({
      store: new LedgerLogStore(mongo.db),
      signer: new CheckpointSigner(parsePrivateKey(generateSigningKey())),
    });
    const out = values.out ? createWriteStream(values.out) : process.stdout;
    const size = values['tree-size'] === undefined ? undefined : Number(values['tree-size']);
    for await (const row of service.exportLog(values.tenant, size)) out.write(`${JSON.stringify(row)}\n`);
    if (out !== process.stdout) await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r));
  } finally {
    await mongo.close();
    await embedded?.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
