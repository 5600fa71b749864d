import { describe, expect, it } from '@jest/globals';
import { GeminiPlanClient, LlmError } from '../../src/services/llm/GeminiPlanClient.js';
import { ModelAvailabilityGuard, type ModelStatus } from '../../src/services/llm/modelAvailability.js';
import { fakeReplies, useFakeGemini } from '../support/fakeGemini.js';
import { rejectionOf } from '../support/rejection.js';

const REQUEST = { allowed_action_types: ['PREP_RENEWAL_BRIEF'], system_instruction: 'sys', prompt: 'p' };
const SINCE = new Date('2026-11-23T12:00:00Z');

const fake = useFakeGemini();

const gemini = () => new GeminiPlanClient({ apiKey: 'k', model: 'gemini-2.0-flash', baseUrl: fake.baseUrl, timeoutMs: 2000, retryDelayMs: () => 5 });

describe('ModelAvailabilityGuard (real SDK, fake Gemini)', () => {
  it.each([
    [404, 'not found'],
    [403, 'permission denied'],
  ])('treats HTTP %i as a configuration error: reported once, never asked again', async (status, words) => {
    const seen: ModelStatus[] = [];
    const guard = new ModelAvailabilityGuard(gemini(), (s) => seen.push(s), () => SINCE);
    expect(guard.status()).toEqual({ status: 'ok', model: 'gemini-2.0-flash', reason: null, since: null });
    fake.setDefault(fakeReplies.httpError(status));
    expect((await rejectionOf(LlmError, guard.proposeSteps(REQUEST))).kind).toBe('model_unavailable');
    const again = await rejectionOf(LlmError, guard.proposeSteps(REQUEST));
    expect(again.kind).toBe('model_unavailable');
    expect(again.message).toMatch(/not retried/);
    expect(fake.requests).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({ status: 'misconfigured', model: 'gemini-2.0-flash', reason: expect.stringContaining(words), since: SINCE });
    expect(guard.status()).toEqual(seen[0]);
  });

  it('passes answers and transient failures through without latching', async () => {
    const guard = new ModelAvailabilityGuard(gemini());
    fake.enqueue(fakeReplies.httpError(500), fakeReplies.httpError(500));
    expect((await rejectionOf(LlmError, guard.proposeSteps(REQUEST))).kind).toBe('server');
    expect((await guard.proposeSteps(REQUEST)).steps.length).toBeGreaterThan(0);
    expect(guard.status().status).toBe('ok');
    expect(guard.model).toBe('gemini-2.0-flash');
  });

  it('reports with the default callback and clock too', async () => {
    const guard = new ModelAvailabilityGuard(gemini());
    fake.enqueue(fakeReplies.httpError(404));
    await rejectionOf(LlmError, guard.proposeSteps(REQUEST));
    expect(guard.status().since).toBeInstanceOf(Date);
  });
});
