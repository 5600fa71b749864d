import { randomUUID } from 'node:crypto';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import type { StoreLogger } from '../../src/store/mongoErrors.js';

/** A valid DRAFT plan; override anything. */
export function draftPlan(overrides: Partial<RevenuePlanV1> = {}): RevenuePlanV1 {
  const now = overrides.updated_at ?? new Date();
  const stepA = randomUUID();
  return {
    plan_id: randomUUID(),
    plan_type: 'RENEWAL_DEFENSE',
    tenant_id: 't1',
    account_id: 'acc-1',
    objective: 'Keep the account through its renewal',
    plan_status: 'DRAFT',
    steps: [
      { step_id: stepA, action_type: 'PREP_RENEWAL_BRIEF', status: 'PENDING', sequence: 1, dependencies: [] },
      { step_id: randomUUID(), action_type: 'REQUEST_RENEWAL_MEETING', status: 'PENDING', sequence: 2, dependencies: [stepA], constraints: { channel: 'email' } },
    ],
    constraints: { max_touches: 3 },
    expires_at: new Date(now.getTime() + 30 * 86_400_000),
    created_at: now,
    updated_at: now,
    created_by: 'alice',
    ...overrides,
  };
}

/** A logger that keeps what it was told, for asserting that causes are logged. */
export function memoryLogger(): StoreLogger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  };
}

/** The AppError code a promise rejects with (fails the test when it resolves). */
export async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? `not an AppError: ${String(e)}`;
  }
  throw new Error('expected a rejection');
}

export { sleep } from '../support/wait.js';

