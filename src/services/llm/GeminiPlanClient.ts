import { GoogleGenerativeAI, SchemaType, type ResponseSchema } from '@google/generative-ai';
import type { AppConfig } from '../../config/env.js';
import { EVIDENCE_SOURCES } from '../../domain/plan.js';
import { classifyLlmFailure } from './classifyLlmFailure.js';
import { LlmError, type LlmPlanClient, type LlmPlanDraft, type LlmPlanRequest } from './llmPlanClient.js';
import { parseLlmDraft } from './parseLlmDraft.js';

export { LlmError, type LlmErrorKind, type LlmPlanClient, type LlmPlanDraft, type LlmPlanRequest } from './llmPlanClient.js';

/** Most steps the response schema lets the model list. */
export const RESPONSE_MAX_STEPS = 6;
/** Most evidence items per step the response schema lets the model list. */
export const RESPONSE_MAX_EVIDENCE = 10;
/** A retry starts only when at least this much of the deadline is left. */
export const MIN_ATTEMPT_MS = 100;
const MAX_OUTPUT_TOKENS = 2048;

export interface GeminiPlanClientOptions {
  apiKey: string;
  model: string;
  /** A self-hosted or test endpoint; the SDK's default (Google) when unset. */
  baseUrl?: string;
  /** The whole call's deadline, the retry included. */
  timeoutMs: number;
  /** Pause before the one retry; 100–300 ms of jitter by default. */
  retryDelayMs?: () => number;
}

const defaultRetryDelay = (): number => 100 + Math.floor(Math.random() * 201);

/**
 * Gemini through @google/generative-ai, with JSON output constrained by a response schema.
 * One deadline (timeoutMs) bounds the whole call: each attempt gets what is left of it as an
 * abort signal (the SDK hands it to fetch: connect, headers and body), and a timer race rejects
 * at the deadline even if the SDK never settles. The SDK's own `timeout` option is not used on
 * purpose: the SDK never clears that timer, so every call would hold the event loop open for the
 * full timeout (slow shutdowns, "Jest did not exit"); the signal aborts the same fetch and is
 * cleared. At most one retry, only for transient failures (429, 5xx, timeout, network) and only
 * when enough of the deadline is left; never for a 4xx bad request.
 */
export class GeminiPlanClient implements LlmPlanClient {
  readonly model: string;
  private readonly client: GoogleGenerativeAI;
  private readonly baseUrl: string | undefined;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: () => number;

  constructor(options: GeminiPlanClientOptions) {
    this.model = options.model;
    this.client = new GoogleGenerativeAI(options.apiKey);
    // The SDK appends "/v1beta/..." itself; a trailing slash would double it.
    this.baseUrl = options.baseUrl?.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelay;
  }

  async proposeSteps(request: LlmPlanRequest): Promise<LlmPlanDraft> {
    const deadline = Date.now() + this.timeoutMs;
    try {
      return await this.attempt(request, deadline);
    } catch (error) {
      const failure = classifyLlmFailure(error);
      const delay = this.retryDelayMs();
      if (!failure.transient || deadline - Date.now() - delay < MIN_ATTEMPT_MS) throw failure;
      await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        return await this.attempt(request, deadline);
      } catch (retryError) {
        throw classifyLlmFailure(retryError);
      }
    }
  }

  private async attempt(request: LlmPlanRequest, deadline: number): Promise<LlmPlanDraft> {
    const remaining = Math.max(deadline - Date.now(), 1);
    const model = this.client.getGenerativeModel(
      {
        model: this.model,
        systemInstruction: request.system_instruction,
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: planResponseSchema(request.allowed_action_types),
          temperature: 0.2,
          maxOutputTokens: MAX_OUTPUT_TOKENS,
        },
      },
      { baseUrl: this.baseUrl },
    );
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadlinePassed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new LlmError('timeout', `Gemini did not answer within ${this.timeoutMs} ms`));
      }, remaining);
    });
    try {
      const result = await Promise.race([model.generateContent(request.prompt, { signal: abort.signal }), deadlinePassed]);
      return parseLlmDraft(result.response.text());
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The JSON shape the model must answer in; action types are an enum of the allowed steps. */
export function planResponseSchema(allowedActionTypes: readonly string[]): ResponseSchema {
  return {
    type: SchemaType.OBJECT,
    properties: {
      objective: { type: SchemaType.STRING, description: 'One sentence, at most 500 characters.' },
      steps: {
        type: SchemaType.ARRAY,
        maxItems: RESPONSE_MAX_STEPS,
        items: {
          type: SchemaType.OBJECT,
          properties: {
            action_type: { type: SchemaType.STRING, format: 'enum', enum: [...allowedActionTypes] },
            depends_on: { type: SchemaType.ARRAY, items: { type: SchemaType.INTEGER } },
            rationale: { type: SchemaType.STRING, description: 'One sentence, at most 500 characters, naming the facts behind the step.' },
            evidence: {
              type: SchemaType.ARRAY,
              maxItems: RESPONSE_MAX_EVIDENCE,
              items: {
                type: SchemaType.OBJECT,
                properties: {
                  source: { type: SchemaType.STRING, format: 'enum', enum: [...EVIDENCE_SOURCES] },
                  index: { type: SchemaType.INTEGER, nullable: true },
                  field: { type: SchemaType.STRING, nullable: true },
                },
                required: ['source'],
              },
            },
          },
          required: ['action_type', 'depends_on', 'rationale', 'evidence'],
        },
      },
    },
    required: ['objective', 'steps'],
  };
}

/** The configured Gemini client, or null when no GEMINI_API_KEY is set (the rules generator serves). */
export function createLlmClientFromConfig(
  config: Pick<AppConfig, 'GEMINI_API_KEY' | 'GEMINI_MODEL' | 'GEMINI_BASE_URL' | 'LLM_TIMEOUT_MS'>,
): LlmPlanClient | null {
  if (!config.GEMINI_API_KEY) return null;
  return new GeminiPlanClient({
    apiKey: config.GEMINI_API_KEY,
    model: config.GEMINI_MODEL,
    baseUrl: config.GEMINI_BASE_URL,
    timeoutMs: config.LLM_TIMEOUT_MS,
  });
}
