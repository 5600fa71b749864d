/**
 * The contract between the proposal generator and a model. A client only transports: it asks
 * for steps and returns what came back, bounded but unchecked item by item; the generator's
 * sanitizer decides what of it becomes a plan.
 */

export interface LlmPlanRequest {
  /** The step action types the model may use (the response schema's enum). */
  allowed_action_types: readonly string[];
  /** Trusted instructions. */
  system_instruction: string;
  /** The task with the account context as delimited, untrusted data. */
  prompt: string;
}

export interface LlmPlanDraft {
  objective: string | null;
  /** Step items as the model sent them; sanitizeProposal judges each one. */
  steps: unknown[];
}

export interface LlmPlanClient {
  readonly model: string;
  /** Rejects only with LlmError. */
  proposeSteps(request: LlmPlanRequest): Promise<LlmPlanDraft>;
}

/**
 * model_unavailable: the model answered "not found" or "permission denied" (HTTP 404 / 403), a
 * configuration error (a retired or misspelled GEMINI_MODEL, a key without access), not a
 * transient failure.
 */
export const LLM_ERROR_KINDS = ['timeout', 'rate_limited', 'server', 'bad_request', 'invalid_output', 'network', 'model_unavailable'] as const;
export type LlmErrorKind = (typeof LLM_ERROR_KINDS)[number];

/** Kinds worth one more try: the next answer may well differ. */
const TRANSIENT_KINDS: readonly LlmErrorKind[] = ['timeout', 'rate_limited', 'server', 'network'];

/** A failed model call, by kind. The message never carries the upstream body. */
export class LlmError extends Error {
  readonly kind: LlmErrorKind;
  readonly status: number | undefined;

  constructor(kind: LlmErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'LlmError';
    this.kind = kind;
    this.status = options.status;
  }

  get transient(): boolean {
    return TRANSIENT_KINDS.includes(this.kind);
  }
}
