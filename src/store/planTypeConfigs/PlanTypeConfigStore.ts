import type { Collection, Db } from 'mongodb';
import { v5 as uuidv5 } from 'uuid';
import type { PlanType, PlanTypeConfigVersionStatus } from '../../domain/enums.js';
import { AppError } from '../../domain/errors.js';
import type { LedgerEntryRecord } from '../../domain/ledger.js';
import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';
import { ledgerEntryKey, type LedgerVerification, type PlanLedger } from '../PlanLedger.js';
import { withPlanLock } from '../PlanRepository.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from '../mongoErrors.js';
import { PLAYBOOK_HEADS_COLLECTION, PLAYBOOK_VERSIONS_COLLECTION } from './playbookIndexes.js';

// A tenant's playbook versions (docs/playbooks.md). Two collections, no transactions:
// - plan_type_config_versions: one document per (tenant, plan type, version), _id derived from
//   the three, so two drafts racing for one number meet on the unique _id (one wins, CONFLICT).
//   A version's content never changes; only its status moves (DRAFT -> PUBLISHED -> SUPERSEDED,
//   DRAFT -> RETIRED).
// - plan_type_config_heads: one per (tenant, plan type): the published version (the stamp every
//   instance's cache checks), the count of the playbook's ledger events and, while a publish or
//   retire is being completed, that event (the outbox). A publish or retire is one conditional
//   write of the head (the moment it takes effect), then the ledger append, then the version
//   documents' statuses, then clearing the pending event; every step is idempotent, and every
//   read through this store completes a pending event first (crash table: docs/playbooks.md).

/** The ledger chain (plan_id) of a tenant's playbook of one plan type. */
export const playbookChainId = (planType: string): string => `config:${planType}`;

const HEAD_NAMESPACE = '0d7b3a8e-54c1-4f7e-8b2d-6a9e1c3f5d20';

export const playbookVersionKey = (tenantId: string, planType: PlanType, version: number): string => uuidv5(`${tenantId}\n${planType}\n${version}`, HEAD_NAMESPACE);
const headKey = (tenantId: string, planType: PlanType): string => uuidv5(`${tenantId}\n${planType}\nhead`, HEAD_NAMESPACE);

/** One stored version (never version 0: that is the built-in default, not stored). */
export interface StoredPlaybookVersion {
  tenant_id: string;
  plan_type: PlanType;
  version: number;
  status: PlanTypeConfigVersionStatus;
  config: PlanTypeConfig;
  content_hash: string;
  created_by: string;
  created_at: Date;
  based_on_version: number | null;
  note: string | null;
  published_by?: string;
  published_at?: Date;
  retired_by?: string;
  retired_at?: Date;
  /** The PLAN_TYPE_CONFIG_PUBLISHED or _RETIRED entry of this version. */
  ledger_entry_id?: string;
}

type PendingEvent = {
  event_type: 'PLAN_TYPE_CONFIG_PUBLISHED' | 'PLAN_TYPE_CONFIG_RETIRED';
  version: number;
  /** The version published before (PUBLISHED only): it becomes SUPERSEDED. */
  previous_version: number;
  actor: string;
  content_hash: string;
  timestamp: Date;
  seq: number;
};

/** What every instance's cache checks: the version in force. */
export interface PlaybookHead {
  published_version: number;
  /** Playbook ledger events so far (a pending one included). */
  event_count: number;
}

interface HeadDoc {
  _id: string;
  tenant_id: string;
  plan_type: PlanType;
  published_version: number;
  event_count: number;
  ledger_hash: string | null;
  pending_event: PendingEvent | null;
  updated_at: Date;
}

type VersionDoc = StoredPlaybookVersion & { _id: string };

const EMPTY_HEAD = { published_version: 0, event_count: 0, ledger_hash: null, pending_event: null } as const;

export interface PlaybookStoreOptions {
  ledger: PlanLedger;
  logger?: StoreLogger;
  now?: () => Date;
}

export class PlanTypeConfigStore {
  private readonly versions: Collection<VersionDoc>;
  private readonly heads: Collection<HeadDoc>;
  private readonly ledger: PlanLedger;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  private readonly dbName: string;

  constructor(db: Db, options: PlaybookStoreOptions) {
    this.dbName = db.databaseName;
    this.versions = db.collection<VersionDoc>(PLAYBOOK_VERSIONS_COLLECTION);
    this.heads = db.collection<HeadDoc>(PLAYBOOK_HEADS_COLLECTION);
    this.ledger = options.ledger;
    this.logger = options.logger ?? consoleStoreLogger;
    this.now = options.now ?? (() => new Date());
  }

  /** The version in force: one point read (the cache's stamp). Does not complete a pending event. */
  async head(tenantId: string, planType: PlanType): Promise<PlaybookHead> {
    return withStoreErrors(this.logger, 'playbooks.head', async () => {
      const doc = await this.heads.findOne({ tenant_id: tenantId, _id: headKey(tenantId, planType) });
      return { published_version: doc?.published_version ?? 0, event_count: doc?.event_count ?? 0 };
    });
  }

  /** One version (null when absent); a pending publish or retire is completed first. */
  async getVersion(tenantId: string, planType: PlanType, version: number, settled = false): Promise<StoredPlaybookVersion | null> {
    if (!settled) await this.settle(tenantId, planType);
    return withStoreErrors(this.logger, 'playbooks.get', async () => {
      const doc = await this.versions.findOne({ tenant_id: tenantId, _id: playbookVersionKey(tenantId, planType, version) });
      return doc ? strip(doc) : null;
    });
  }

  /** Stored versions by (plan type, version) in one query, aligned with `keys` (null where absent); reads only. */
  async getVersions(tenantId: string, keys: readonly { planType: PlanType; version: number }[]): Promise<(StoredPlaybookVersion | null)[]> {
    const ids = keys.map((k) => playbookVersionKey(tenantId, k.planType, k.version));
    const docs = await withStoreErrors(this.logger, 'playbooks.getMany', () => this.versions.find({ tenant_id: tenantId, _id: { $in: ids } }).toArray());
    const byId = new Map(docs.map((d) => [d._id, strip(d)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Every stored version, newest first; a pending publish or retire is completed first. */
  async listVersions(tenantId: string, planType: PlanType): Promise<StoredPlaybookVersion[]> {
    await this.settle(tenantId, planType);
    return withStoreErrors(this.logger, 'playbooks.list', async () => {
      const docs = await this.versions.find({ tenant_id: tenantId, plan_type: planType }).sort({ version: -1 }).limit(1000).toArray();
      return docs.map(strip);
    });
  }

  /**
   * A new DRAFT with the next number. Two racing drafts derive the same _id: the unique key
   * lets one in, the other is CONFLICT (safe to retry: it gets the number after).
   */
  async createDraft(input: {
    tenantId: string;
    planType: PlanType;
    config: Omit<PlanTypeConfig, 'version'>;
    contentHash: string;
    createdBy: string;
    basedOnVersion: number | null;
    note: string | null;
  }): Promise<StoredPlaybookVersion> {
    return withStoreErrors(this.logger, 'playbooks.draft', async () => {
      const last = await this.versions.find({ tenant_id: input.tenantId, plan_type: input.planType }).sort({ version: -1 }).limit(1).toArray();
      const version = (last[0]?.version ?? 0) + 1;
      const doc: VersionDoc = {
        _id: playbookVersionKey(input.tenantId, input.planType, version),
        tenant_id: input.tenantId,
        plan_type: input.planType,
        version,
        status: 'DRAFT',
        config: { ...input.config, version },
        content_hash: input.contentHash,
        created_by: input.createdBy,
        created_at: this.now(),
        based_on_version: input.basedOnVersion,
        note: input.note,
      };
      try {
        await this.versions.insertOne(doc);
      } catch (e) {
        if (isDuplicateKeyError(e)) throw new AppError('CONFLICT', `version ${version} was drafted concurrently; try again`);
        throw e;
      }
      return strip(doc);
    });
  }

  /**
   * The DRAFT becomes the published version (the one before it SUPERSEDED) by `actor`, who must
   * not be its author (FORBIDDEN). A retry by the same actor after it took effect returns it.
   * CONFLICT when another publish or retire of this playbook got there first.
   */
  async publish(tenantId: string, planType: PlanType, version: number, actor: string): Promise<StoredPlaybookVersion> {
    const head = await this.settle(tenantId, planType);
    const draft = await this.requireVersion(tenantId, planType, version);
    if (draft.status === 'PUBLISHED' && draft.published_by === actor) return draft;
    if (draft.status !== 'DRAFT') throw new AppError('INVALID_TRANSITION', `version ${version} is ${draft.status}; only a DRAFT can be published`);
    if (draft.created_by === actor) throw new AppError('FORBIDDEN', 'a draft is published by a plan-admin other than its author');
    await this.begin(tenantId, planType, head, this.nextEvent('PLAN_TYPE_CONFIG_PUBLISHED', head, draft, actor));
    return (await this.getVersion(tenantId, planType, version))!;
  }

  /** A DRAFT becomes RETIRED (never published). */
  async retire(tenantId: string, planType: PlanType, version: number, actor: string): Promise<StoredPlaybookVersion> {
    const head = await this.settle(tenantId, planType);
    const draft = await this.requireVersion(tenantId, planType, version);
    if (draft.status === 'RETIRED' && draft.retired_by === actor) return draft;
    if (draft.status !== 'DRAFT') throw new AppError('INVALID_TRANSITION', `version ${version} is ${draft.status}; only a DRAFT can be retired`);
    await this.begin(tenantId, planType, head, this.nextEvent('PLAN_TYPE_CONFIG_RETIRED', head, draft, actor));
    return (await this.getVersion(tenantId, planType, version))!;
  }

  /** The playbook's ledger chain, checked against the head's count of events. */
  async verifyChain(tenantId: string, planType: PlanType): Promise<LedgerVerification> {
    const head = await this.settle(tenantId, planType);
    return this.ledger.verify(tenantId, playbookChainId(planType), { expectedEntries: head.event_count });
  }

  /**
   * Completes a pending publish or retire (a crash, or a writer still at it: every step is
   * idempotent) and returns the head as it is then.
   */
  async settle(tenantId: string, planType: PlanType): Promise<HeadDoc> {
    const doc = await withStoreErrors(this.logger, 'playbooks.head', () => this.heads.findOne({ tenant_id: tenantId, _id: headKey(tenantId, planType) }));
    const head = doc ?? { _id: headKey(tenantId, planType), tenant_id: tenantId, plan_type: planType, ...EMPTY_HEAD, updated_at: this.now() };
    return head.pending_event ? this.complete(head, head.pending_event) : head;
  }

  /**
   * The start-up sweep: completes every pending publish or retire, any tenant (a process that
   * died mid-way; heads are few, one per tenant and plan type). Returns how many it completed.
   */
  async settleAllPending(): Promise<number> {
    const stuck = await withStoreErrors(this.logger, 'playbooks.sweep', () =>
      this.heads.find({ pending_event: { $ne: null } }, { projection: { tenant_id: 1, plan_type: 1 } }).limit(1000).toArray(),
    );
    for (const head of stuck) await this.settle(head.tenant_id, head.plan_type);
    return stuck.length;
  }

  private nextEvent(event_type: PendingEvent['event_type'], head: HeadDoc, draft: StoredPlaybookVersion, actor: string): PendingEvent {
    return {
      event_type,
      version: draft.version,
      previous_version: head.published_version,
      actor,
      content_hash: draft.content_hash,
      timestamp: this.now(),
      seq: head.event_count + 1,
    };
  }

  private async requireVersion(tenantId: string, planType: PlanType, version: number): Promise<StoredPlaybookVersion> {
    const stored = await this.getVersion(tenantId, planType, version, true);
    if (!stored) throw new AppError('NOT_FOUND', `no version ${version} of the ${planType} playbook`);
    return stored;
  }

  /** Step 1: the head takes the change and its pending event in one conditional write; then the rest. */
  private async begin(tenantId: string, planType: PlanType, head: HeadDoc, event: PendingEvent): Promise<void> {
    const published = event.event_type === 'PLAN_TYPE_CONFIG_PUBLISHED' ? event.version : head.published_version;
    const next: HeadDoc = { ...head, published_version: published, event_count: event.seq, pending_event: event, updated_at: event.timestamp };
    // The process lock makes the conditional write atomic on the embedded store (see withPlanLock).
    const taken = await withPlanLock(`${this.dbName}\u0000${head._id}`, () => withStoreErrors(this.logger, 'playbooks.begin', async () => {
      // A head exists from a playbook's first event on.
      if (head.event_count === 0) {
        try {
          await this.heads.insertOne(next);
          return true;
        } catch (e) {
          if (isDuplicateKeyError(e)) return false;
          throw e;
        }
      }
      const result = await this.heads.updateOne(
        { tenant_id: tenantId, _id: head._id, event_count: head.event_count, pending_event: null },
        { $set: { published_version: published, event_count: event.seq, pending_event: event, updated_at: event.timestamp } },
      );
      return result.modifiedCount === 1;
    }));
    if (!taken) throw new AppError('CONFLICT', `the ${planType} playbook changed concurrently; try again`);
    await this.complete(next, event);
  }

  /** Steps 2–4, each idempotent: the ledger entry, the versions' statuses, the cleared pending event. */
  private async complete(head: HeadDoc, event: PendingEvent): Promise<HeadDoc> {
    const chain = playbookChainId(head.plan_type);
    const entry: LedgerEntryRecord = await this.ledger.append(
      {
        entry_id: ledgerEntryKey(head.tenant_id, chain, event.seq),
        plan_id: chain,
        tenant_id: head.tenant_id,
        account_id: chain,
        event_type: event.event_type,
        actor: event.actor,
        timestamp: event.timestamp,
        data: {
          plan_type: head.plan_type,
          version: event.version,
          content_hash: event.content_hash,
          ...(event.event_type === 'PLAN_TYPE_CONFIG_PUBLISHED' ? { previous_version: event.previous_version } : {}),
        },
      },
      { expectedSeq: event.seq, ...(head.ledger_hash ? { prevHash: head.ledger_hash } : {}) },
    );
    await withStoreErrors(this.logger, 'playbooks.complete', async () => {
      const key = (v: number) => playbookVersionKey(head.tenant_id, head.plan_type, v);
      if (event.event_type === 'PLAN_TYPE_CONFIG_PUBLISHED') {
        await this.versions.updateOne(
          { tenant_id: head.tenant_id, _id: key(event.version), status: 'DRAFT' },
          { $set: { status: 'PUBLISHED', published_by: event.actor, published_at: event.timestamp, ledger_entry_id: entry.entry_id } },
        );
        if (event.previous_version > 0 && event.previous_version !== event.version) {
          await this.versions.updateOne({ tenant_id: head.tenant_id, _id: key(event.previous_version), status: 'PUBLISHED' }, { $set: { status: 'SUPERSEDED' } });
        }
      } else {
        await this.versions.updateOne(
          { tenant_id: head.tenant_id, _id: key(event.version), status: 'DRAFT' },
          { $set: { status: 'RETIRED', retired_by: event.actor, retired_at: event.timestamp, ledger_entry_id: entry.entry_id } },
        );
      }
      await this.heads.updateOne(
        { tenant_id: head.tenant_id, _id: head._id, event_count: event.seq, 'pending_event.seq': event.seq },
        { $set: { pending_event: null, ledger_hash: entry.hash } },
      );
    });
    return { ...head, pending_event: null, ledger_hash: entry.hash };
  }
}

function strip(doc: VersionDoc): StoredPlaybookVersion {
  const { _id: _ignored, ...rest } = doc;
  return rest;
}
