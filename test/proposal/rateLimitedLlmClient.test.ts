import { describe, expect, it } from '@jest/globals';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { GeminiPlanClient, LlmError, type LlmPlanRequest } from '../../src/services/llm/GeminiPlanClient.js';
import { asBackgroundWork, rateLimitLlmClient } from '../../src/services/llm/rateLimitedLlmClient.js';
import { fakeReplies, useFakeGemini } from '../support/fakeGemini.js';
import { rejectionOf } from '../support/rejection.js';

const REQUEST: LlmPlanRequest = {
  allowed_action_types: RENEWAL_DEFENSE_CONFIG.allowed_step_action_types,
  system_instruction: 'You draft plans.',
  prompt: 'Propose a plan.\n<account_data>\n{"account_id":"acme"}\n</account_data>',
};

const fake = useFakeGemini();
const gemini = () => new GeminiPlanClient({ apiKey: 'test-key', model: 'gemini-test', baseUrl: fake.baseUrl, timeoutMs: 5000, retryDelayMs: () => 5 });

describe('rate-limited model calls (real SDK against the fake Gemini)', () => {
  it('starts calls at the configured rate whatever the model latency: 600 a minute, 300 ms each', async () => {
    fake.setDefault({ ...fakeReplies.goodPlan(), delayMs: 300 } as never);
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 600 });
    const calls = 41;
    await Promise.all(Array.from({ length: calls }, () => limited.proposeSteps(REQUEST)));
    const times = fake.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(calls);
    // From the second arrival on: the first one also carries the connection's set-up.
    const perMinute = ((calls - 2) / (times.at(-1)! - times[1]!)) * 60_000;
    // Evenly spaced starts, within 5% of the limit.
    expect(perMinute).toBeLessThanOrEqual(600 * 1.05);
    expect(perMinute).toBeGreaterThanOrEqual(600 * 0.95);
    await limited.stop();
  }, 30_000);

  it('honours 429 in background work: backs off, holds every background call, and tries again until the model answers', async () => {
    // The client itself retries once: two 429s fail one attempt, the limiter's retry then succeeds.
    fake.enqueue(fakeReplies.httpError(429), fakeReplies.httpError(429));
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 6000, baseBackoffMs: 200 });
    const t0 = Date.now();
    const draft = await asBackgroundWork(() => limited.proposeSteps(REQUEST));
    expect(draft.steps).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(limited.stats().rateLimited).toBe(1);
    expect(fake.requests).toHaveLength(3);
    await limited.stop();
  });

  it('gives up after its retries with the 429 as an LlmError (the generator then falls back to the rules)', async () => {
    fake.setDefault(fakeReplies.httpError(429));
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 6000, baseBackoffMs: 10, maxRateLimitRetries: 2 });
    const error = await rejectionOf(LlmError, asBackgroundWork(() => limited.proposeSteps(REQUEST)));
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).kind).toBe('rate_limited');
    expect(limited.stats().rateLimited).toBe(3);
    await limited.stop();
  });

  it('keeps an interactive call inside its bound: no retry here after a 429, never held back by the back-off of background work', async () => {
    fake.setDefault(fakeReplies.httpError(429));
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 6000, baseBackoffMs: 2000, interactiveMaxWaitMs: 300 });
    const first = await rejectionOf(LlmError, limited.proposeSteps(REQUEST));
    expect((first as LlmError).kind).toBe('rate_limited');
    // One attempt (the client's own retry included): the limiter tried nothing more.
    expect(fake.requests).toHaveLength(2);
    // A background call's 429 holds background work back for about 2 s; an interactive call goes on.
    const backgroundCall = asBackgroundWork(() => limited.proposeSteps(REQUEST)).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const t0 = Date.now();
    await rejectionOf(LlmError, limited.proposeSteps(REQUEST));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(fake.requests).toHaveLength(6);
    await limited.stop();
    await backgroundCall;
  });

  it('refuses an interactive call whose turn is further away than interactiveMaxWaitMs, without calling the model', async () => {
    fake.setDefault(fakeReplies.goodPlan());
    // 6 a minute: the second call's turn is 10 s away.
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 6, interactiveMaxWaitMs: 300 });
    await limited.proposeSteps(REQUEST);
    const t0 = Date.now();
    const error = await rejectionOf(LlmError, limited.proposeSteps(REQUEST));
    expect((error as LlmError).kind).toBe('rate_limited');
    expect(Date.now() - t0).toBeLessThan(300);
    expect(fake.requests).toHaveLength(1);
    await limited.stop();
  });

  it('passes other model failures through untouched, and stops twice without complaint', async () => {
    fake.setDefault(fakeReplies.httpError(400));
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 6000 });
    const error = await rejectionOf(LlmError, asBackgroundWork(() => limited.proposeSteps(REQUEST)));
    expect((error as LlmError).kind).not.toBe('rate_limited');
    expect(limited.stats()).toEqual({ started: 1, rateLimited: 0 });
    await limited.stop();
    await expect(limited.stop()).resolves.toBeUndefined();
  });

  it('starts interactive calls before background ones that wait', async () => {
    const limited = rateLimitLlmClient(gemini(), { requestsPerMinute: 600 });
    const order: string[] = [];
    const background = Array.from({ length: 8 }, (_, i) => asBackgroundWork(() => limited.proposeSteps(REQUEST).then(() => order.push(`bg${i}`))));
    const interactive = limited.proposeSteps(REQUEST).then(() => order.push('interactive'));
    await Promise.all([...background, interactive]);
    // The background calls that had their turn already go first (the queue takes them in as they
    // come, one or two before the interactive call arrives); the interactive one goes next, not last.
    expect(order.indexOf('interactive')).toBeLessThanOrEqual(2);
    await limited.stop();
  });
});
