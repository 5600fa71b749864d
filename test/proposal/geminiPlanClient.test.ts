import { describe, expect, it } from '@jest/globals';
import {
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIResponseError,
} from '@google/generative-ai';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config/env.js';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { classifyLlmFailure } from '../../src/services/llm/classifyLlmFailure.js';
import {
  createLlmClientFromConfig,
  GeminiPlanClient,
  LlmError,
  RESPONSE_MAX_STEPS,
  type LlmPlanRequest,
} from '../../src/services/llm/GeminiPlanClient.js';
import { MAX_ANSWER_CHARS, MAX_ANSWER_OBJECTIVE_CHARS, MAX_ANSWER_STEPS, parseLlmDraft } from '../../src/services/llm/parseLlmDraft.js';
import { fakeReplies, useFakeGemini } from '../support/fakeGemini.js';
import { rejectionOf } from '../support/rejection.js';

const REQUEST: LlmPlanRequest = {
  allowed_action_types: RENEWAL_DEFENSE_CONFIG.allowed_step_action_types,
  system_instruction: 'You draft plans.',
  prompt: 'Propose a plan.\n<account_data>\n{"account_id":"acme"}\n</account_data>',
};

const fake = useFakeGemini();

const client = (overrides: Partial<ConstructorParameters<typeof GeminiPlanClient>[0]> = {}) =>
  new GeminiPlanClient({ apiKey: 'test-key', model: 'gemini-test', baseUrl: fake.baseUrl, timeoutMs: 2000, retryDelayMs: () => 5, ...overrides });

describe('GeminiPlanClient against a fake Gemini server (real SDK)', () => {
  it('asks generateContent with a JSON response schema whose action types are the allowed steps', async () => {
    const draft = await client().proposeSteps(REQUEST);
    expect(draft.objective).toBe('Secure the renewal of account acme-1 before 2027-01-07');
    expect(draft.steps).toHaveLength(3);
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req!.path).toBe('/v1beta/models/gemini-test:generateContent');
    expect(req!.apiKey).toBe('test-key');
    expect(req!.systemInstruction).toBe(REQUEST.system_instruction);
    expect(req!.prompt).toBe(REQUEST.prompt);
    expect(req!.body).toMatchObject({ generationConfig: { responseMimeType: 'application/json' } });
    expect(req!.responseSchema).toMatchObject({
      type: 'object',
      required: ['objective', 'steps'],
      properties: {
        steps: {
          type: 'array',
          maxItems: RESPONSE_MAX_STEPS,
          items: { properties: { action_type: { type: 'string', format: 'enum', enum: [...RENEWAL_DEFENSE_CONFIG.allowed_step_action_types] } } },
        },
      },
    });
  });

  it('tolerates a trailing slash on the base URL and a fenced JSON answer', async () => {
    fake.enqueue(fakeReplies.text('```json\n{"objective": null, "steps": [{"action_type": "PREP_RENEWAL_BRIEF"}], "extra": 1}\n```'));
    const draft = await client({ baseUrl: `${fake.baseUrl}/` }).proposeSteps(REQUEST);
    expect(draft).toEqual({ objective: null, steps: [{ action_type: 'PREP_RENEWAL_BRIEF' }] });
    expect(fake.requests[0]!.path).toBe('/v1beta/models/gemini-test:generateContent');
  });

  it.each([429, 500, 503])('retries once after HTTP %i and then succeeds', async (status) => {
    fake.enqueue(fakeReplies.httpError(status));
    const draft = await client().proposeSteps(REQUEST);
    expect(draft.steps).toHaveLength(3);
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    [429, 'rate_limited'],
    [500, 'server'],
  ] as const)('gives up after one retry on HTTP %i (%s)', async (status, kind) => {
    fake.enqueue(fakeReplies.httpError(status), fakeReplies.httpError(status));
    const error = await rejectionOf(LlmError, client().proposeSteps(REQUEST));
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    expect(error.transient).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    [400, 'bad_request'],
    [403, 'model_unavailable'],
    [404, 'model_unavailable'],
  ])('never retries HTTP %i (%s)', async (status, kind) => {
    fake.enqueue(fakeReplies.httpError(status, 'API key not valid'));
    const error = await rejectionOf(LlmError, client().proposeSteps(REQUEST));
    expect(error.kind).toBe(kind);
    expect(error.transient).toBe(false);
    expect(error.message).not.toMatch(/API key/);
    expect(fake.requests).toHaveLength(1);
  });

  it('bounds a hang by the timeout and does not retry past the deadline', async () => {
    fake.enqueue(fakeReplies.hang());
    const started = Date.now();
    const error = await rejectionOf(LlmError, client({ timeoutMs: 300 }).proposeSteps(REQUEST));
    const elapsed = Date.now() - started;
    expect(error.kind).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(300 + 1500);
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps one deadline across the retry: a fast failure then a hang still ends at the bound', async () => {
    fake.enqueue(fakeReplies.httpError(500), fakeReplies.hang());
    const started = Date.now();
    const error = await rejectionOf(LlmError, client({ timeoutMs: 400 }).proposeSteps(REQUEST));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(400 + 1500);
    expect(fake.requests).toHaveLength(2);
  });

  it('skips the retry when too little of the deadline is left', async () => {
    fake.enqueue(fakeReplies.httpError(500));
    const error = await rejectionOf(LlmError, client({ timeoutMs: 150, retryDelayMs: () => 100 }).proposeSteps(REQUEST));
    expect(error.kind).toBe('server');
    expect(fake.requests).toHaveLength(1);
  });

  it('waits a jittered 100-300 ms before the retry by default', async () => {
    fake.enqueue(fakeReplies.httpError(503));
    const started = Date.now();
    await new GeminiPlanClient({ apiKey: 'k', model: 'gemini-test', baseUrl: fake.baseUrl, timeoutMs: 3000 }).proposeSteps(REQUEST);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(fake.requests).toHaveLength(2);
  });

  it.each([
    ['invalid JSON', fakeReplies.invalidJson()],
    ['a JSON answer of the wrong shape', fakeReplies.answer({ objective: 'x', steps: 'none' })],
    ['an answer blocked for safety', { kind: 'text', text: '{}', finishReason: 'SAFETY' } as const],
    ['a 200 whose body is not JSON', { kind: 'raw', status: 200, body: '<html>oops</html>' } as const],
    ['a 200 without candidates', { kind: 'raw', status: 200, body: '{}' } as const],
  ])('reports %s as invalid_output without a retry', async (_name, reply) => {
    fake.enqueue(reply);
    const error = await rejectionOf(LlmError, client().proposeSteps(REQUEST));
    expect(error.kind).toBe('invalid_output');
    expect(fake.requests).toHaveLength(1);
  });

  it('reports an unreachable endpoint as a network failure after one retry', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    let attempts = 0;
    const error = await rejectionOf(LlmError, 
      client({
        baseUrl: `http://127.0.0.1:${closedPort}`,
        retryDelayMs: () => {
          attempts++;
          return 5;
        },
      }).proposeSteps(REQUEST),
    );
    expect(error.kind).toBe('network');
    expect(attempts).toBe(1);
  });
});

describe('createLlmClientFromConfig', () => {
  it('returns null without GEMINI_API_KEY', () => {
    expect(createLlmClientFromConfig(loadConfig({}))).toBeNull();
  });

  it('builds a client for the configured model, endpoint and timeout', async () => {
    const llm = createLlmClientFromConfig(
      loadConfig({ GEMINI_API_KEY: 'k', GEMINI_MODEL: 'gemini-configured', GEMINI_BASE_URL: fake.baseUrl, LLM_TIMEOUT_MS: '2000' }),
    );
    expect(llm).toBeInstanceOf(GeminiPlanClient);
    expect(llm!.model).toBe('gemini-configured');
    await llm!.proposeSteps(REQUEST);
    expect(fake.requests[0]!.model).toBe('models/gemini-configured');
  });

  it('uses the SDK default endpoint when no base URL is set (not called here)', () => {
    expect(createLlmClientFromConfig(loadConfig({ GEMINI_API_KEY: 'k' }))!.model).toBe('gemini-flash-latest');
  });
});

describe('parseLlmDraft', () => {
  it('keeps the envelope, drops extras, leaves items to the sanitizer', () => {
    expect(parseLlmDraft('{"objective":"o","steps":[1,{"a":2}],"plan_status":"APPROVED"}')).toEqual({ objective: 'o', steps: [1, { a: 2 }] });
    expect(parseLlmDraft('{"steps":[]}')).toEqual({ objective: null, steps: [] });
  });

  it.each([
    ['too long', `{"steps":[],"objective":"${'x'.repeat(MAX_ANSWER_CHARS)}"}`],
    ['objective too long', JSON.stringify({ objective: 'x'.repeat(MAX_ANSWER_OBJECTIVE_CHARS + 1), steps: [] })],
    ['too many steps', JSON.stringify({ objective: 'o', steps: Array.from({ length: MAX_ANSWER_STEPS + 1 }, () => ({})) })],
    ['not an object', '[]'],
    ['no steps', '{"objective":"o"}'],
    ['not JSON', 'Sure! Here is your plan:'],
    ['empty', ''],
  ])('rejects an answer that is %s', (_name, text) => {
    expect(() => parseLlmDraft(text)).toThrow(LlmError);
  });
});

describe('classifyLlmFailure', () => {
  it.each([
    [new GoogleGenerativeAIFetchError('x', 429), 'rate_limited'],
    [new GoogleGenerativeAIFetchError('x', 408), 'timeout'],
    [new GoogleGenerativeAIFetchError('x', 502), 'server'],
    [new GoogleGenerativeAIFetchError('x', 401), 'bad_request'],
    [new GoogleGenerativeAIFetchError('x'), 'network'],
    [new GoogleGenerativeAIAbortError('x'), 'timeout'],
    [new GoogleGenerativeAIResponseError('x'), 'invalid_output'],
    [new SyntaxError('x'), 'invalid_output'],
    [new GoogleGenerativeAIError('fetch failed'), 'network'],
    [new TypeError('fetch failed'), 'network'],
    ['a string', 'network'],
    [new LlmError('bad_request', 'kept'), 'bad_request'],
  ] as const)('classifies %p as %s', (error, kind) => {
    expect(classifyLlmFailure(error).kind).toBe(kind);
  });
});
