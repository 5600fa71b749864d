// `npm run eval`: the quality harness. Rules always (must agree 100%); with GEMINI_API_KEY also
// the configured model, through the same generator code proposePlan runs.
import { loadConfig } from '../src/config/env.js';
import { GeminiPlanClient } from '../src/services/llm/GeminiPlanClient.js';
import { PlanProposalGenerator } from '../src/services/proposal/PlanProposalGenerator.js';
import { EVAL_NOW, GOLDEN_SET } from './goldenSet.js';
import { formatSummary, runEval, type EvalSummary } from './runEval.js';

export interface EvalRun {
  rules: EvalSummary;
  model: EvalSummary | null;
  /** 0 when the rules agree with every scenario, else 1. */
  exitCode: number;
}

/** Runs the harness with the given environment, writing the tables to `print`. */
export async function runEvalCli(env: NodeJS.ProcessEnv, print: (text: string) => void): Promise<EvalRun> {
  const config = loadConfig(env);
  const clock = () => EVAL_NOW;
  const rules = await runEval('rules generator', new PlanProposalGenerator({ llm: null, fallback: 'rules', clock }), GOLDEN_SET);
  print(formatSummary(rules));
  let model: EvalSummary | null = null;
  if (config.GEMINI_API_KEY) {
    const llm = new GeminiPlanClient({
      apiKey: config.GEMINI_API_KEY,
      model: config.GEMINI_MODEL,
      baseUrl: config.GEMINI_BASE_URL,
      timeoutMs: config.LLM_TIMEOUT_MS,
    });
    // fallback 'error': a failed call shows as LLM_UNAVAILABLE instead of hiding behind the rules.
    model = await runEval(`model ${config.GEMINI_MODEL}`, new PlanProposalGenerator({ llm, fallback: 'error', clock }), GOLDEN_SET);
    print('');
    print(formatSummary(model));
  } else {
    print('\n(model pass skipped: GEMINI_API_KEY is not set)');
  }
  const perfect = rules.stepsAgreement === 1 && rules.evidenceExact === 1 && rules.warningsAgreement === 1;
  if (!perfect) print('\nFAIL: the rules generator must agree with every scenario (steps, evidence, warnings)');
  return { rules, model, exitCode: perfect ? 0 : 1 };
}

/* istanbul ignore next -- the CLI entry; tests call runEvalCli */
if (import.meta.url === `file://${process.argv[1]}`) {
  runEvalCli(process.env, (text) => console.log(text)).then(
    (run) => {
      process.exitCode = run.exitCode;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
