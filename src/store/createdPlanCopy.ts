import { BSON } from 'mongodb';
import { z } from 'zod';
import { toStorableJson } from '../domain/storableJson.js';

// A plan's PLAN_CREATED entry keeps a copy of the plan as created (its store-only field
// created_plan), so the ledger alone can restore a plan document a crash lost (PlanOutbox.restore).
// The entry's hashed data already says much of that plan: a proposal's audit names its
// objective, type and account, and each step's action, rationale, evidence and owner. What
// the data holds identically is left out of the copy, listed in `from_data`, and read back
// from the data on restore; so the entry does not carry the plan's explanations twice, and
// those parts of a restored plan come from hashed, verifiable fields. A copy without
// `from_data` (as written before) is the whole plan.
//
// The copy is stored as one EJSON text ({ ejson }): nothing queries inside it, and one string
// costs the store far less to write than the same values as nested fields (FerretDB converts
// every value). A copy stored as a document (as written before) reads as it is.

/** The plan's own fields that always stay in the copy: its identity, and the steps (merged per step). */
const ALWAYS_KEPT = new Set(['plan_id', 'tenant_id', 'steps']);

export interface CreatedPlanCopy {
  plan: Record<string, unknown>;
  proposal: unknown;
  /** Fields left out of `plan` because the entry's data holds them: top-level, and per step (matched by step_id). */
  from_data?: { plan: string[]; steps: string[] };
}

export const CreatedPlanCopySchema = z.object({
  plan: z.record(z.string(), z.unknown()),
  proposal: z.unknown(),
  from_data: z.object({ plan: z.array(z.string()), steps: z.array(z.string()) }).optional(),
});

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const defined = (o: Json) => Object.keys(o).filter((k) => o[k] !== undefined);

/** Deep equality of storable values (JSON plus Dates; a Date never equals its ISO text). */
export function sameStorable(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameStorable(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = defined(a);
  return keys.length === defined(b).length && keys.every((k) => sameStorable(a[k], b[k]));
}

/** A field the plan has (not null) and the data holds identically, or one both lack (the data may say null). */
const sameField = (own: unknown, fromData: unknown): boolean =>
  own === undefined ? fromData === undefined || fromData === null : own !== null && sameStorable(own, fromData);

/** The data's steps by step_id (the first of each id), or null when the data has no step list. */
function stepsById(data: Json): Map<string, Json> | null {
  if (!Array.isArray(data.steps)) return null;
  const byId = new Map<string, Json>();
  for (const step of data.steps) {
    if (isObject(step) && typeof step.step_id === 'string' && !byId.has(step.step_id)) byId.set(step.step_id, step);
  }
  return byId;
}

/** The copy of `plan` to keep beside the entry `data`: without what the data holds identically. */
export function compactCreatedPlan(plan: Json, proposal: unknown, data: Json): CreatedPlanCopy {
  const out: Json = {};
  const fromPlan: string[] = [];
  for (const key of defined(plan)) {
    if (!ALWAYS_KEPT.has(key) && sameField(plan[key], data[key])) fromPlan.push(key);
    else out[key] = plan[key];
  }
  const fromSteps: string[] = [];
  const dataSteps = stepsById(data);
  const steps = Array.isArray(plan.steps) ? plan.steps : null;
  if (steps && dataSteps && steps.every((s) => isObject(s) && typeof s.step_id === 'string' && dataSteps.has(s.step_id))) {
    const planSteps = steps as Json[];
    const keys = new Set(planSteps.flatMap((s) => defined(s)));
    keys.delete('step_id');
    for (const key of keys) {
      if (planSteps.every((s) => sameField(s[key], dataSteps.get(s.step_id as string)?.[key]))) fromSteps.push(key);
    }
    if (fromSteps.length > 0) {
      out.steps = planSteps.map((s) => {
        const kept: Json = {};
        for (const key of defined(s)) if (!fromSteps.includes(key)) kept[key] = s[key];
        return kept;
      });
    }
  }
  if (fromPlan.length === 0 && fromSteps.length === 0) return { plan, proposal };
  return { plan: out, proposal, from_data: { plan: fromPlan, steps: fromSteps } };
}

/** The plan as created, from its copy and its entry's data (an unchecked object: the caller parses it). */
export function expandCreatedPlan(copy: z.infer<typeof CreatedPlanCopySchema>, data: Json): Json {
  const fromData = copy.from_data;
  if (!fromData) return copy.plan;
  const plan: Json = { ...copy.plan };
  for (const key of fromData.plan) if (data[key] !== undefined && data[key] !== null) plan[key] = data[key];
  if (fromData.steps.length > 0 && Array.isArray(plan.steps)) {
    const dataSteps = stepsById(data) ?? new Map<string, Json>();
    plan.steps = plan.steps.map((step: unknown) => {
      if (!isObject(step)) return step;
      const source = typeof step.step_id === 'string' ? dataSteps.get(step.step_id) : undefined;
      const full: Json = { ...step };
      for (const key of fromData.steps) {
        const value = source?.[key];
        if (value !== undefined && value !== null) full[key] = value;
      }
      return full;
    });
  }
  return plan;
}

/** The stored form of a copy: its EJSON text (Dates kept), after the store's JSON rule. */
export function storedCreatedPlan(copy: CreatedPlanCopy): { ejson: string } {
  return { ejson: BSON.EJSON.stringify(toStorableJson(copy, 'created_plan'), { relaxed: true }) };
}

/** A copy as stored (its EJSON text, or a document as written before) read back; null when unreadable. */
export function readCreatedPlan(stored: unknown): unknown {
  if (!isObject(stored) || typeof stored.ejson !== 'string') return stored;
  try {
    return BSON.EJSON.parse(stored.ejson, { relaxed: true });
  } catch {
    return null;
  }
}
