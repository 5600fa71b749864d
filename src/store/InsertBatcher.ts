import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';
import { insertEach } from './insertEach.js';

// Group commit for single-document inserts. Each insert is its own write transaction on the
// store (on FerretDB's SQLite, its own commit), and under load the store's time goes into
// commits, not documents. Inserts that arrive while earlier ones are being written wait and
// then go together in one unordered insertMany: one command, one transaction on FerretDB. An
// insert that arrives with nothing in flight is sent at once, so a lone caller waits for
// nobody. Each caller still learns its own document's outcome: a write error (a duplicate key)
// rejects only the insert it belongs to.

export interface InsertBatcherOptions {
  /** Documents per insertMany at most. */
  maxBatch?: number;
  /**
   * insertMany commands in flight at once (default 2: one being committed while the next
   * waits at the store, so a batch is ready the moment the store is; SQLite takes one writer).
   */
  maxInFlight?: number;
  /**
   * How long an insert may wait for others to join its batch (default 0: none). For writes off
   * the request path (a webhook's outcome), where fewer, larger commands cost the store less.
   */
  lingerMs?: number;
}

interface Waiting<T> {
  doc: OptionalUnlessRequiredId<T>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class InsertBatcher<T extends Document> {
  private readonly waiting: Waiting<T>[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly lingerMs: number;
  private linger: NodeJS.Timeout | null = null;
  /** The linger ran out: what waits goes now, however few. */
  private due = false;

  constructor(
    private readonly collection: Collection<T>,
    options: InsertBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 100));
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 2));
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
  }

  /** Inserts one document; rejects with the store's error for this document (e.g. a duplicate key). */
  insert(doc: OptionalUnlessRequiredId<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ doc, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      if (this.lingerMs > 0 && !this.due && this.waiting.length < this.maxBatch) {
        this.linger ??= setTimeout(() => {
          this.linger = null;
          this.due = true;
          this.pump();
        }, this.lingerMs);
        return;
      }
      this.due = false;
      if (this.linger) clearTimeout(this.linger);
      this.linger = null;
      const batch = this.waiting.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting<T>[]): Promise<void> {
    try {
      const outcomes = await insertEach(
        this.collection,
        batch.map((w) => w.doc),
      );
      batch.forEach((w, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) w.resolve();
        else w.reject(outcome.error);
      });
    } catch (e) {
      // The command itself failed (network, server): no document's outcome is known.
      for (const w of batch) w.reject(e);
    }
  }
}
