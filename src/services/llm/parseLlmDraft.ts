import { z } from 'zod';
import { LlmError, type LlmPlanDraft } from './llmPlanClient.js';

/** Bounds on a model answer; beyond them the answer is invalid_output (the sanitizer bounds further). */
export const MAX_ANSWER_CHARS = 64 * 1024;
export const MAX_ANSWER_OBJECTIVE_CHARS = 16_000;
export const MAX_ANSWER_STEPS = 50;

/** The envelope only: items stay unknown for the sanitizer, extra fields are dropped. */
const DraftEnvelopeSchema = z.object({
  objective: z.string().max(MAX_ANSWER_OBJECTIVE_CHARS).nullish(),
  steps: z.array(z.unknown()).max(MAX_ANSWER_STEPS),
});

/** JSON text of a model answer to a draft; a ```json fence around it is tolerated. */
export function parseLlmDraft(text: string): LlmPlanDraft {
  if (text.length > MAX_ANSWER_CHARS) throw new LlmError('invalid_output', `Model answer longer than ${MAX_ANSWER_CHARS} characters`);
  const body = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new LlmError('invalid_output', 'Model answer is not JSON', { cause: error });
  }
  const parsed = DraftEnvelopeSchema.safeParse(json);
  if (!parsed.success) throw new LlmError('invalid_output', 'Model answer does not have the expected shape', { cause: parsed.error });
  return { objective: parsed.data.objective ?? null, steps: parsed.data.steps };
}
