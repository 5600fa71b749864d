import type { Principal } from '../../auth/principal.js';
import { PLAN_TYPES, type PlanType } from '../../domain/enums.js';
import { AppError } from '../../domain/errors.js';
import { parsePlanTypeConfigInput } from '../../domain/playbookConfig.js';
import { diffPlaybooks, playbookContentHash, type PlaybookChange } from '../../domain/playbookDiff.js';
import { getPlanTypeConfig, type PlanTypeConfig } from '../../domain/planTypeConfig.js';
import type { PlanTypeConfigStore, StoredPlaybookVersion } from '../../store/index.js';
import { parseInput } from '../plans/apiInputs.js';
import { z } from 'zod';
import type { PlaybookCache } from './PlaybookCache.js';

/** A version as the API shows it (version 0, the built-in default, included). */
export type PlaybookVersionView = Omit<StoredPlaybookVersion, 'tenant_id' | 'published_by' | 'published_at' | 'retired_by' | 'retired_at' | 'ledger_entry_id'> & {
  published_by: string | null;
  published_at: Date | null;
  ledger_entry_id: string | null;
};

/** Who "wrote" version 0. */
export const BUILT_IN_AUTHOR = 'system:built-in';

const NoteSchema = z.string().trim().max(500).nullish();
const VersionSchema = z.number().int().min(0).max(1_000_000);

/**
 * A tenant's playbooks (docs/playbooks.md): drafting, four-eyes publishing and retiring
 * versions, reading them and their differences, and the version in force (through the cache).
 */
export class PlaybookService {
  constructor(private readonly deps: { store: PlanTypeConfigStore; cache: PlaybookCache }) {}

  /** The config in force for the tenant (the cache's; null for an unknown plan type). */
  current(tenantId: string, planType: string): Promise<PlanTypeConfig | null> {
    return this.deps.cache.current(tenantId, planType);
  }

  /** Newest first, version 0 last. */
  async versions(principal: Principal, planType: PlanType): Promise<PlaybookVersionView[]> {
    const [stored, head] = await Promise.all([this.deps.store.listVersions(principal.tenantId, planType), this.deps.store.head(principal.tenantId, planType)]);
    return [...stored.map(view), builtIn(planType, head.published_version === 0)];
  }

  async version(principal: Principal, planType: PlanType, version: number): Promise<PlaybookVersionView> {
    const checked = parseInput(VersionSchema, version, 'version');
    if (checked === 0) return builtIn(planType, (await this.deps.store.head(principal.tenantId, planType)).published_version === 0);
    const stored = await this.deps.store.getVersion(principal.tenantId, planType, checked);
    if (!stored) throw new AppError('NOT_FOUND', `no version ${checked} of the ${planType} playbook`);
    return view(stored);
  }

  /**
   * Versions by their Node local ids (`<planType>:<version>`), aligned with them, null for an
   * id that names none of the caller's tenant's versions: one store query for the stored ones.
   */
  async versionsByLocalIds(principal: Principal, localIds: readonly string[]): Promise<(PlaybookVersionView | null)[]> {
    const keys = localIds.map(parseLocalId);
    const stored = await this.deps.store.getVersions(
      principal.tenantId,
      keys.flatMap((k) => (k && k.version > 0 ? [k] : [])),
    );
    const found = new Map(stored.flatMap((v) => (v ? [[playbookLocalId(v.plan_type, v.version), view(v)] as const] : [])));
    const needsHead = keys.find((k) => k?.version === 0);
    const inForce = needsHead ? (await this.deps.store.head(principal.tenantId, needsHead.planType)).published_version : null;
    return keys.map((k) => (k === null ? null : k.version === 0 ? builtIn(k.planType, inForce === 0) : (found.get(playbookLocalId(k.planType, k.version)) ?? null)));
  }

  async diff(principal: Principal, planType: PlanType, fromVersion: number, toVersion: number): Promise<PlaybookChange[]> {
    const [from, to] = await Promise.all([this.version(principal, planType, fromVersion), this.version(principal, planType, toVersion)]);
    return diffPlaybooks(from.config, to.config);
  }

  async draft(principal: Principal, planType: PlanType, rawInput: unknown, basedOnVersion: number | null | undefined, note: string | null | undefined): Promise<PlaybookVersionView> {
    const config = parsePlanTypeConfigInput(planType, rawInput, 0);
    const checkedNote = parseInput(NoteSchema, note, 'note');
    if (basedOnVersion != null) await this.version(principal, planType, basedOnVersion);
    const { version: _none, ...content } = config;
    const stored = await this.deps.store.createDraft({
      tenantId: principal.tenantId,
      planType,
      config: content,
      contentHash: playbookContentHash(config),
      createdBy: principal.sub,
      basedOnVersion: basedOnVersion ?? null,
      note: checkedNote || null,
    });
    return view(stored);
  }

  async publish(principal: Principal, planType: PlanType, version: number): Promise<PlaybookVersionView> {
    const stored = await this.deps.store.publish(principal.tenantId, planType, storedVersion(version), principal.sub);
    this.deps.cache.invalidate(principal.tenantId, planType);
    return view(stored);
  }

  async retire(principal: Principal, planType: PlanType, version: number): Promise<PlaybookVersionView> {
    return view(await this.deps.store.retire(principal.tenantId, planType, storedVersion(version), principal.sub));
  }
}

/** A version a publish or retire can name: version 0 is the built-in default, never a draft. */
function storedVersion(version: number): number {
  const checked = parseInput(VersionSchema, version, 'version');
  if (checked === 0) throw new AppError('INVALID_TRANSITION', 'version 0 is the built-in default, not a draft; draft a copy of it to publish it again');
  return checked;
}

/** A version's own id, the one its Node id encodes. */
export const playbookLocalId = (planType: string, version: number): string => `${planType}:${version}`;

function parseLocalId(localId: string): { planType: PlanType; version: number } | null {
  const match = /^([A-Z_]{1,64}):(\d{1,7})$/.exec(localId);
  if (!match || !(PLAN_TYPES as readonly string[]).includes(match[1]!)) return null;
  return { planType: match[1] as PlanType, version: Number(match[2]) };
}

function view(v: StoredPlaybookVersion): PlaybookVersionView {
  return {
    plan_type: v.plan_type,
    version: v.version,
    status: v.status,
    config: v.config,
    content_hash: v.content_hash,
    created_by: v.created_by,
    created_at: v.created_at,
    published_by: v.published_by ?? null,
    published_at: v.published_at ?? null,
    based_on_version: v.based_on_version,
    note: v.note,
    ledger_entry_id: v.ledger_entry_id ?? null,
  };
}

function builtIn(planType: PlanType, inForce: boolean): PlaybookVersionView {
  const config = getPlanTypeConfig(planType)!;
  return {
    plan_type: planType,
    version: 0,
    status: inForce ? 'PUBLISHED' : 'SUPERSEDED',
    config,
    content_hash: playbookContentHash(config),
    created_by: BUILT_IN_AUTHOR,
    created_at: new Date(0),
    published_by: null,
    published_at: null,
    based_on_version: null,
    note: 'The built-in default',
    ledger_entry_id: null,
  };
}
