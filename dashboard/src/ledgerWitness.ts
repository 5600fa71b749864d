// The dashboard as a witness of the tenant's verifiable ledger (README "Verifiable ledger").
// It keeps the last checkpoint it accepted per tenant (localStorage), with the entries it saw
// in it, and checks each new checkpoint: signed by a published key (Ed25519 in WebCrypto, when
// the browser has it), an extension of the kept one (RFC 9162 consistency proof), and still
// holding the kept entries unchanged (inclusion proofs). The tree code and the note's format
// are the service's own (src/domain, bundled in), over the plain SHA-256 of src/domain/sha256.ts.
// A failure keeps the old checkpoint (the evidence) and shows a red banner naming the sizes.
import { noteStates, type CheckpointJson } from '../../src/domain/ledgerCheckpoint.js';
import { fromHex, merkleHashing, toHex } from '../../src/domain/merkleCore.js';
import { sha256 } from '../../src/domain/sha256.js';
import { gql, isUnreachable } from './api.js';

const STORAGE_PREFIX = 'renewal-defense.dashboard.witness.';
/** Entries remembered per tenant (the newest the feed showed). */
const REMEMBERED = 40;

interface Kept {
  treeSize: number;
  rootHash: string;
  entries: { entryId: string; hash: string }[];
}

export type WitnessResult = { ok: true; treeSize: number; signatureChecked: boolean } | { ok: false; message: string };

const QUERY = /* GraphQL */ `
  query Witness {
    ledgerCheckpoint { tenantId treeSize rootHash timestamp keyId signature note }
    ledgerSigningKeys { keyId algorithm publicKey }
    planLedger(first: ${REMEMBERED}) { edges { node { entryId hash } } }
  }
`;
const CONSISTENCY = /* GraphQL */ `
  query WitnessConsistency($from: Int!, $to: Int!) { ledgerConsistencyProof(fromSize: $from, toSize: $to) { path } }
`;
const INCLUSION = /* GraphQL */ `
  query WitnessInclusion($entryId: ID!, $size: Int!) { ledgerInclusionProof(entryId: $entryId, treeSize: $size) { leafIndex treeSize leafHash auditPath } }
`;

const tree = merkleHashing(sha256);
/** Bytes of a hex string; none for text that is not hex (no proof verifies with it). */
const unhex = (text: string): Uint8Array => fromHex(text) ?? new Uint8Array(0);
const unbase64 = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** true / false when the browser can check Ed25519; null when it cannot. */
async function signatureValid(c: CheckpointJson, keys: { keyId: string; publicKey: string }[]): Promise<boolean | null> {
  const key = keys.find((k) => k.keyId === c.keyId);
  if (!key) return false;
  let imported: CryptoKey;
  try {
    imported = await crypto.subtle.importKey('raw', unbase64(key.publicKey), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return null; // no Ed25519 in this browser's WebCrypto
  }
  return crypto.subtle.verify({ name: 'Ed25519' }, imported, unbase64(c.signature), new TextEncoder().encode(c.note));
}

function read(tenantId: string): Kept | null {
  try {
    const raw = localStorage.getItem(STORAGE_PREFIX + tenantId);
    return raw ? (JSON.parse(raw) as Kept) : null;
  } catch {
    return null;
  }
}

function keep(tenantId: string, kept: Kept): void {
  try {
    localStorage.setItem(STORAGE_PREFIX + tenantId, JSON.stringify(kept));
  } catch {
    /* storage disabled: the witness only lasts this page */
  }
}

/**
 * A proof the service refuses (an error it answers with) counts against the log; a service
 * that does not answer is no verdict at all, so that error goes on up and the run stops.
 */
function refusedOnly(e: unknown): undefined {
  if (isUnreachable(e)) throw e;
  return undefined;
}

/** Whether the entry is leaf of the checkpoint with exactly this hash; null while it is not yet sealed in it. */
async function included(entry: { entryId: string; hash: string }, c: CheckpointJson, token: string): Promise<boolean | null> {
  const data = await gql<{ ledgerInclusionProof: { leafIndex: number; treeSize: number; leafHash: string; auditPath: string[] } | null }>(INCLUSION, { entryId: entry.entryId, size: c.treeSize }, token).catch(refusedOnly);
  const p = data?.ledgerInclusionProof;
  if (p === null) return null;
  if (!p) return false;
  const leaf = tree.leafHash(unhex(entry.hash));
  return p.leafHash === toHex(leaf) && tree.verifyInclusion(p.leafIndex, p.treeSize, leaf, p.auditPath.map(unhex), unhex(c.rootHash));
}

/** Checks the tenant's current checkpoint against the kept one; keeps the new one when it holds. */
export async function witnessLedger(tenantId: string, token: string): Promise<WitnessResult> {
  const data = await gql<{ ledgerCheckpoint: CheckpointJson | null; ledgerSigningKeys: { keyId: string; publicKey: string }[]; planLedger: { edges: { node: { entryId: string; hash: string } }[] } }>(QUERY, {}, token);
  const kept = read(tenantId);
  const now = data.ledgerCheckpoint;
  if (!now) {
    return kept && kept.treeSize > 0 ? { ok: false, message: `the ledger has no checkpoint, but checkpoint ${kept.treeSize} was seen before` } : { ok: true, treeSize: 0, signatureChecked: false };
  }
  const signature = await signatureValid(now, data.ledgerSigningKeys);
  if (signature === false) return { ok: false, message: `checkpoint ${now.treeSize} is not signed by a published key` };
  if (now.tenantId !== tenantId || !noteStates(now.note, now)) {
    return { ok: false, message: `checkpoint ${now.treeSize} does not match its signed note` };
  }
  if (kept) {
    if (now.treeSize < kept.treeSize) return { ok: false, message: `checkpoint ${now.treeSize} is older than checkpoint ${kept.treeSize} seen before: the ledger was rolled back` };
    if (now.treeSize === kept.treeSize ? now.rootHash !== kept.rootHash : !(await consistent(kept, now, token))) {
      return { ok: false, message: `checkpoint ${kept.treeSize} seen before is not a prefix of checkpoint ${now.treeSize}: the ledger's history was rewritten` };
    }
    for (const entry of kept.entries) {
      if ((await included(entry, now, token)) !== true) return { ok: false, message: `an entry seen in checkpoint ${kept.treeSize} is missing or changed in checkpoint ${now.treeSize}` };
    }
  }
  const seen: { entryId: string; hash: string }[] = [];
  for (const { node: entry } of data.planLedger.edges) {
    const inIt = await included(entry, now, token);
    if (inIt === false) return { ok: false, message: `entry ${entry.entryId} is not in checkpoint ${now.treeSize} as shown` };
    if (inIt) seen.push(entry);
  }
  const entries = [...new Map([...seen, ...(kept?.entries ?? [])].map((e) => [e.entryId, e])).values()].slice(0, REMEMBERED);
  keep(tenantId, { treeSize: now.treeSize, rootHash: now.rootHash, entries });
  return { ok: true, treeSize: now.treeSize, signatureChecked: signature === true };
}

async function consistent(kept: Kept, now: CheckpointJson, token: string): Promise<boolean> {
  if (kept.treeSize === 0) return true;
  const data = await gql<{ ledgerConsistencyProof: { path: string[] } }>(CONSISTENCY, { from: kept.treeSize, to: now.treeSize }, token).catch(refusedOnly);
  return data !== undefined && tree.verifyConsistency(kept.treeSize, now.treeSize, unhex(kept.rootHash), unhex(now.rootHash), data.ledgerConsistencyProof.path.map(unhex));
}

/** The operations the witness sends (validated against the schema by the dashboard's contract test). */
export const WITNESS_OPERATIONS = [QUERY, CONSISTENCY, INCLUSION] as const;
