// The signed text of a ledger checkpoint (docs: README "Verifiable ledger"). Five lines, each
// ending in "\n": the format name, the tenant id, the tree size, the root hash (lowercase
// hex), the timestamp (ISO 8601 UTC with milliseconds). The signature covers exactly these
// UTF-8 bytes, so whoever holds the note and the public key can check it without the service.

export const CHECKPOINT_FORMAT = 'renewal-defense-ledger/v1';

export interface CheckpointBody {
  tenantId: string;
  treeSize: number;
  rootHash: string;
  timestamp: Date;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The note for a checkpoint body. A tenant id with a line break could not be parsed back. */
export function formatCheckpointNote(body: CheckpointBody): string {
  if (/[\r\n]/.test(body.tenantId)) throw new Error('a tenant id in a checkpoint cannot contain a line break');
  return `${CHECKPOINT_FORMAT}\n${body.tenantId}\n${body.treeSize}\n${body.rootHash}\n${body.timestamp.toISOString()}\n`;
}

/** The body a note states, or null when the text is not exactly a note of this format. */
export function parseCheckpointNote(note: string): CheckpointBody | null {
  const lines = note.split('\n');
  if (lines.length !== 6 || lines[5] !== '') return null;
  const [format, tenantId, size, rootHash, timestamp] = lines as [string, string, string, string, string];
  if (format !== CHECKPOINT_FORMAT || tenantId === '' || tenantId.includes('\r')) return null;
  if (!/^(0|[1-9]\d{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) return null;
  if (!/^[0-9a-f]{64}$/.test(rootHash) || !ISO_MS.test(timestamp)) return null;
  const at = new Date(timestamp);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== timestamp) return null;
  return { tenantId, treeSize: Number(size), rootHash, timestamp: at };
}

/** A checkpoint as the API answers it: its body, the key that signed it, the signature over the note, the note. */
export interface SignedCheckpoint extends CheckpointBody {
  keyId: string;
  signature: string;
  note: string;
}

/** A signed checkpoint as JSON (the export, a saved API answer): the timestamp an ISO string. */
export type CheckpointJson = Omit<SignedCheckpoint, 'timestamp'> & { timestamp: string };

/**
 * Whether `note` is a note of this format stating exactly these fields: what a checkpoint
 * claims counts only as far as its signed note says it (the timestamp too, when given).
 */
export function noteStates(note: string, c: { tenantId: string; treeSize: number; rootHash: string; timestamp?: Date | string }): boolean {
  const body = parseCheckpointNote(note);
  if (!body || body.tenantId !== c.tenantId || body.treeSize !== c.treeSize || body.rootHash !== c.rootHash) return false;
  return c.timestamp === undefined || body.timestamp.toISOString() === (c.timestamp instanceof Date ? c.timestamp.toISOString() : c.timestamp);
}
