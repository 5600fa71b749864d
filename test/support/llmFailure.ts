import { expect } from '@jest/globals';
import { LlmError } from '../../src/services/llm/GeminiPlanClient.js';

/** The LlmError a call rejects with; the test fails when it resolves or rejects with anything else. */
export async function llmFailure(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(LlmError);
    return e as LlmError;
  }
  throw new Error('expected an LlmError');
}
