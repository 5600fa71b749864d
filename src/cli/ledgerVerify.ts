// npm run ledger:verify -- --keys keys.json --export log.jsonl [--saved checkpoint.json]
// npm run ledger:verify -- --keys keys.json --saved old.json --checkpoint new.json --proof proof.json
//
// Checks a tenant's ledger from files alone (what it checks: src/cli/ledgerAudit.ts).
// keys.json: the ledgerSigningKeys answer ([{keyId, publicKey}] or the whole GraphQL response),
// from a source you trust. Checkpoint and proof files: ledgerCheckpoint / ledgerConsistencyProof
// answers (the object or the whole GraphQL response). Exit code 0 when everything holds.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { auditConsistency, auditExport, type CheckpointJson, type TrustedKey } from './ledgerAudit.js';

/** The object itself, or the one field of a GraphQL response's data. */
function unwrap<T>(file: string): T {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const data = json.data as Record<string, unknown> | undefined;
  return (data && typeof data === 'object' ? Object.values(data)[0] : json) as T;
}

function main(): number {
  const { values } = parseArgs({
    options: { keys: { type: 'string' }, export: { type: 'string' }, saved: { type: 'string' }, checkpoint: { type: 'string' }, proof: { type: 'string' } },
  });
  if (!values.keys || (!values.export && !(values.saved && values.checkpoint && values.proof))) {
    process.stderr.write('usage: ledger:verify --keys keys.json (--export log.jsonl [--saved cp.json] | --saved old.json --checkpoint new.json --proof proof.json)\n');
    return 2;
  }
  const keys = unwrap<TrustedKey[]>(values.keys);
  const saved = values.saved ? unwrap<CheckpointJson>(values.saved) : undefined;
  const report = values.export
    ? auditExport(readFileSync(values.export, 'utf8'), keys, saved)
    : auditConsistency(saved as CheckpointJson, unwrap<CheckpointJson>(values.checkpoint as string), unwrap(values.proof as string), keys);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(report.ok ? `OK: ${report.leaves} leaves, ${report.checkpointsChecked} checkpoints verified\n` : `FAILED:\n- ${report.problems.join('\n- ')}\n`);
  return report.ok ? 0 : 1;
}

process.exitCode = main();
