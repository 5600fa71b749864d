import { createPublicKey, verify } from 'node:crypto';
import { CHECKPOINT_FORMAT, noteStates, parseCheckpointNote, type CheckpointJson } from '../domain/ledgerCheckpoint.js';
import { appendLeaves, combineCover, fromHex, leafHash, toHex, verifyConsistency, type Hash } from '../domain/merkleTree.js';
import { hashLedgerEntry } from '../store/ledgerHash.js';
import { EXPORT_FORMAT, untagDates } from '../domain/ledgerExportFormat.js';

// The offline audit of a tenant's ledger, from files alone: no service, no database.
//
//   1. A checkpoint is authentic when its note is five well-formed lines and its signature
//      verifies with one of the public keys the auditor trusts (base64 raw Ed25519 keys, as
//      ledgerSigningKeys publishes them, obtained from a channel the database cannot touch).
//   2. Each exported entry's hash is recomputed from its fields (the ledger's canonical
//      encoding, src/store/ledgerHash.ts); leaf i = SHA-256(0x00 || that hash).
//   3. The RFC 9162 root of the first n leaves must be the signed root of every checkpoint of
//      size n. A changed, missing, inserted or reordered entry changes the root.
//   4. A checkpoint saved earlier must describe a prefix of the same log: its root must be
//      the root of that many leaves of the export (or, without an export, a consistency proof
//      from it to the current checkpoint must verify). A smaller log or another prefix means
//      history was rolled back or rewritten.
//
// Export format (JSON lines, `npm run ledger:export`): a header line, the checkpoints, then
// one line per leaf in order: {"type":"leaf","index":i,"entryId":…,"entry":{…}|null}. Dates
// inside an entry are written {"$date":"<ISO>"} (the store refuses keys starting with "$",
// so that cannot be data).

export type { CheckpointJson };

export interface TrustedKey {
  keyId: string;
  publicKey: string;
}

export interface AuditReport {
  ok: boolean;
  tenantId: string | null;
  leaves: number;
  checkpointsChecked: number;
  /**
   * The first leaf whose entry is missing or unreadable, else the first leaf that no matching
   * signed checkpoint vouches for (the size of the largest checkpoint below the first one
   * that fails: a file-only audit can only narrow a change down to between two checkpoints).
   */
  firstBadLeafIndex: number | null;
  problems: string[];
}

/** Whether the checkpoint's note states its fields and is signed by a trusted key. */
export function checkpointProblem(c: CheckpointJson, keys: readonly TrustedKey[]): string | null {
  if (!parseCheckpointNote(c.note)) return `checkpoint ${c.treeSize}: the note is not a ${CHECKPOINT_FORMAT} note`;
  if (!noteStates(c.note, c)) return `checkpoint ${c.treeSize}: its fields differ from its signed note`;
  const key = keys.find((k) => k.keyId === c.keyId);
  if (!key) return `checkpoint ${c.treeSize}: signed by key ${c.keyId}, which is not trusted`;
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey, 'base64').toString('base64url') }, format: 'jwk' });
  if (!verify(null, Buffer.from(c.note, 'utf8'), publicKey, Buffer.from(c.signature, 'base64'))) return `checkpoint ${c.treeSize}: the signature does not verify`;
  return null;
}

/** The leaf hash of an exported entry, recomputed from its fields; null when it cannot be read. */
function recomputedLeaf(raw: unknown): Hash | null {
  const e = untagDates(raw) as Record<string, unknown> | null;
  if (!e || !(e.timestamp instanceof Date) || typeof e.seq !== 'number' || typeof e.data !== 'object' || e.data === null) return null;
  const hash = hashLedgerEntry({
    entry_id: String(e.entry_id),
    plan_id: String(e.plan_id),
    tenant_id: String(e.tenant_id),
    account_id: String(e.account_id),
    event_type: String(e.event_type),
    timestamp: e.timestamp,
    seq: e.seq,
    actor: typeof e.actor === 'string' ? e.actor : null,
    data: e.data as Record<string, unknown>,
    prev_hash: typeof e.prev_hash === 'string' ? e.prev_hash : null,
  });
  return leafHash(fromHex(hash) as Hash);
}

function isHeaderLine(line: string | undefined): boolean {
  try {
    return line !== undefined && (JSON.parse(line) as { type?: unknown } | null)?.type === 'header';
  } catch {
    return false;
  }
}

/** Audits an export (its text), optionally against a checkpoint saved earlier. */
export function auditExport(text: string, keys: readonly TrustedKey[], saved?: CheckpointJson): AuditReport {
  const problems: string[] = [];
  let tenantId: string | null = null;
  const checkpoints: CheckpointJson[] = [];
  const leaves: (Hash | null)[] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const [n, line] of lines.entries()) {
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`line ${n + 1} is not JSON`);
      continue;
    }
    if (row.type === 'header') {
      if (n !== 0) problems.push(`line ${n + 1}: a header where only the first line may be one`);
      if (row.format !== EXPORT_FORMAT) problems.push(`the export's format is ${String(row.format)}, not ${EXPORT_FORMAT}`);
      tenantId = typeof row.tenantId === 'string' ? row.tenantId : null;
    } else if (row.type === 'checkpoint') checkpoints.push(row as unknown as CheckpointJson);
    else if (row.type === 'leaf') {
      if (row.index !== leaves.length) problems.push(`line ${n + 1}: leaf ${String(row.index)} where leaf ${leaves.length} belongs`);
      const leaf = recomputedLeaf(row.entry);
      if (!leaf) problems.push(`leaf ${leaves.length}: its entry is missing or unreadable`);
      leaves.push(leaf);
    }
  }
  if (!isHeaderLine(lines[0])) problems.push(`the export has no header line (${EXPORT_FORMAT}, tenant): it is not a complete ledger export`);
  // Roots of every prefix a checkpoint names (one pass over the leaves).
  const wanted = new Set([...checkpoints.map((c) => c.treeSize), ...(saved ? [saved.treeSize] : [])]);
  const roots = new Map<number, string>();
  let state = { size: 0, frontier: [] as Hash[] };
  let firstBad: number | null = leaves.findIndex((l) => l === null);
  if (firstBad < 0) firstBad = null;
  if (wanted.has(0)) roots.set(0, toHex(combineCover([])));
  for (let i = 0; i < leaves.length && firstBad === null; i++) {
    state = appendLeaves(state.size, state.frontier, [leaves[i] as Hash]);
    if (wanted.has(state.size)) roots.set(state.size, toHex(combineCover(state.frontier)));
  }
  const check = (c: CheckpointJson, label: string) => {
    if (tenantId !== null && c.tenantId !== tenantId) problems.push(`${label} ${c.treeSize} is of tenant ${c.tenantId}, not ${tenantId}`);
    const bad = checkpointProblem(c, keys);
    if (bad) return void problems.push(`${label}: ${bad}`);
    if (c.treeSize > leaves.length) return void problems.push(`${label} ${c.treeSize} covers more leaves than the export holds (${leaves.length}): the log was rolled back or cut`);
    const root = roots.get(c.treeSize);
    if (root !== undefined && root !== c.rootHash) {
      problems.push(`${label} ${c.treeSize}: the leaves give root ${root}, the checkpoint signed ${c.rootHash}`);
      failing.push(c.treeSize);
    } else if (root !== undefined) matching.push(c.treeSize);
  };
  const failing: number[] = [];
  const matching: number[] = [];
  for (const c of checkpoints) check(c, 'checkpoint');
  if (saved) check(saved, 'saved checkpoint');
  if (checkpoints.length === 0 && leaves.length > 0) problems.push('the export holds leaves but no checkpoint');
  // Leaves past every checkpoint that holds are vouched for by nothing signed: not verified.
  const covered = Math.max(0, ...matching);
  if (checkpoints.length > 0 && failing.length === 0 && leaves.length > covered) {
    problems.push(`leaves ${covered} to ${leaves.length - 1} are not covered by any valid signed checkpoint (the largest is ${covered}): nothing vouches for them`);
    if (firstBad === null) firstBad = covered;
  }
  if (firstBad === null && failing.length > 0) {
    const lowestFailing = Math.min(...failing);
    firstBad = Math.max(0, ...matching.filter((m) => m < lowestFailing));
  }
  return { ok: problems.length === 0, tenantId, leaves: leaves.length, checkpointsChecked: checkpoints.length + (saved ? 1 : 0), firstBadLeafIndex: firstBad, problems };
}

/** Without an export: is the saved checkpoint a prefix of the current one, by the service's consistency proof? */
export function auditConsistency(saved: CheckpointJson, current: CheckpointJson, proof: { fromSize: number; toSize: number; path: string[] }, keys: readonly TrustedKey[]): AuditReport {
  const problems = [checkpointProblem(saved, keys), checkpointProblem(current, keys)].filter((p): p is string => p !== null);
  if (saved.tenantId !== current.tenantId) problems.push('the two checkpoints are of different tenants');
  if (proof.fromSize !== saved.treeSize || proof.toSize !== current.treeSize) problems.push(`the proof is from ${proof.fromSize} to ${proof.toSize}, not ${saved.treeSize} to ${current.treeSize}`);
  else if (current.treeSize < saved.treeSize) problems.push(`the current checkpoint (${current.treeSize}) is smaller than the saved one (${saved.treeSize}): the log was rolled back`);
  else {
    const path = proof.path.map((h) => fromHex(h) as Hash);
    if (!verifyConsistency(saved.treeSize, current.treeSize, fromHex(saved.rootHash) as Hash, fromHex(current.rootHash) as Hash, path)) {
      problems.push(`checkpoint ${saved.treeSize} is not a prefix of checkpoint ${current.treeSize}: history was rewritten`);
    }
  }
  return { ok: problems.length === 0, tenantId: current.tenantId, leaves: 0, checkpointsChecked: 2, firstBadLeafIndex: null, problems };
}
