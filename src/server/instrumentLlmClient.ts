import type { LlmPlanClient } from '../services/llm/llmPlanClient.js';
import { LlmError } from '../services/llm/llmPlanClient.js';
import type { AppMetrics } from '../observability/metrics.js';

/** Wraps an LLM client so every call's latency is observed by outcome (ok or the error kind). */
export function instrumentLlmClient(client: LlmPlanClient, metrics: AppMetrics): LlmPlanClient {
  return {
    model: client.model,
    async proposeSteps(request) {
      const end = metrics.llmLatency.startTimer();
      try {
        const draft = await client.proposeSteps(request);
        end({ outcome: 'ok' });
        return draft;
      } catch (e) {
        end({ outcome: e instanceof LlmError ? e.kind : 'error' });
        throw e;
      }
    },
  };
}
