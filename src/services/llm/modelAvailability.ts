import { LlmError, type LlmPlanClient, type LlmPlanDraft, type LlmPlanRequest } from './llmPlanClient.js';

/** What /health says about the model. */
export interface ModelStatus {
  /** ok: no configuration error seen (calls may still fail transiently); misconfigured: see reason. */
  status: 'ok' | 'misconfigured';
  model: string;
  reason: string | null;
  since: Date | null;
}

/**
 * Wraps a model client so a configuration error (LlmError model_unavailable: the model id does
 * not exist or the key may not use it) is seen once and then not retried: later calls fail at
 * once with the same kind, without a request, and the caller's fallback (the rules) serves.
 * Fixing it takes a configuration change, so the state lasts until the process restarts.
 */
export class ModelAvailabilityGuard implements LlmPlanClient {
  readonly model: string;
  private failure: { reason: string; since: Date } | null = null;

  constructor(
    private readonly inner: LlmPlanClient,
    private readonly onMisconfigured: (status: ModelStatus) => void = () => {},
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.model = inner.model;
  }

  status(): ModelStatus {
    return this.failure === null
      ? { status: 'ok', model: this.model, reason: null, since: null }
      : { status: 'misconfigured', model: this.model, reason: this.failure.reason, since: this.failure.since };
  }

  async proposeSteps(request: LlmPlanRequest): Promise<LlmPlanDraft> {
    if (this.failure !== null) throw new LlmError('model_unavailable', `${this.failure.reason} (not retried)`);
    try {
      return await this.inner.proposeSteps(request);
    } catch (error) {
      if (error instanceof LlmError && error.kind === 'model_unavailable' && this.failure === null) {
        this.failure = {
          reason: `GEMINI_MODEL "${this.model}" is unusable: ${error.message}; set GEMINI_MODEL to a current model (see docs/operations.md, "Choosing the model")`,
          since: this.clock(),
        };
        this.onMisconfigured(this.status());
      }
      throw error;
    }
  }
}
