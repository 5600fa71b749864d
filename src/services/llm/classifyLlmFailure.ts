import {
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIResponseError,
} from '@google/generative-ai';
import { LlmError } from './llmPlanClient.js';

/** Maps whatever the Gemini SDK (or fetch under it) threw to an LlmError of the right kind. */
export function classifyLlmFailure(error: unknown): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof GoogleGenerativeAIFetchError) {
    const status = error.status ?? 0;
    if (status === 429) return new LlmError('rate_limited', 'Gemini rate limit (HTTP 429)', { status, cause: error });
    if (status === 408) return new LlmError('timeout', 'Gemini request timed out (HTTP 408)', { status, cause: error });
    if (status === 404 || status === 403) {
      const what = status === 404 ? 'not found' : 'permission denied';
      return new LlmError('model_unavailable', `Gemini model ${what} (HTTP ${status})`, { status, cause: error });
    }
    if (status >= 500) return new LlmError('server', `Gemini server error (HTTP ${status})`, { status, cause: error });
    if (status >= 400) return new LlmError('bad_request', `Gemini rejected the request (HTTP ${status})`, { status, cause: error });
    return new LlmError('network', 'Gemini request failed without an HTTP status', { cause: error });
  }
  if (error instanceof GoogleGenerativeAIAbortError) return new LlmError('timeout', 'Gemini request aborted', { cause: error });
  // Blocked answers, and a 200 whose body is not JSON (fetch's SyntaxError, matched by name
  // because it may come from another realm): the output is unusable.
  if (error instanceof GoogleGenerativeAIResponseError || nameOf(error) === 'SyntaxError') {
    return new LlmError('invalid_output', 'Gemini answer unusable', { cause: error });
  }
  return new LlmError('network', 'Gemini request failed', { cause: error });
}

const nameOf = (error: unknown): unknown => (typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined);
