import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from './mongoErrors.js';

// Short leases that keep instances from doing the same background work at once. Correctness
// never rests on them (FerretDB runs the conditional update as a read and a write): the work's
// own unique keys do; a lease only saves wasted effort.

export interface LeaseDoc {
  _id: string;
  holder: string;
  expires_at: Date;
}

/** Takes or renews the lease `key` for `holder` until now + ttl; false while another holder's runs. */
export async function acquireLease<T extends LeaseDoc>(leases: Collection<T>, key: string, holder: string, now: Date, ttlMs: number, extra: Partial<T> = {}): Promise<boolean> {
  const expires_at = new Date(now.getTime() + ttlMs);
  const leaseCollection = leases as unknown as Collection<LeaseDoc>;
  try {
    await leaseCollection.insertOne({ ...extra, _id: key, holder, expires_at } as LeaseDoc);
    return true;
  } catch (e) {
    if (!isDuplicateKeyError(e)) throw e;
  }
  const taken = await leaseCollection.findOneAndUpdate({ _id: key, $or: [{ holder }, { expires_at: { $lt: now } }] }, { $set: { holder, expires_at } }, { returnDocument: 'after' });
  return taken?.holder === holder;
}

/** Ends `holder`'s lease at once (expired), so the next taker need not wait. */
export async function releaseLease<T extends LeaseDoc>(leases: Collection<T>, key: string, holder: string): Promise<void> {
  await (leases as unknown as Collection<LeaseDoc>).updateOne({ _id: key, holder }, { $set: { expires_at: new Date(0) } });
}
