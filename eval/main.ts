// `npm run eval`: the quality harness. Rules always (must agree 100%); with GEMINI_API_KEY also
// the configured model, through the same generator code proposePlan runs.
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/env.js';
import { parsePlanTypeConfigInput } from '../src/domain/playbookConfig.js';
import type { PlanTypeConfig } from '../src/domain/planTypeConfig.js';
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

/**
 * A playbook file for `--config <file>`: a JSON PlanTypeConfigInput for RENEWAL_DEFENSE, checked
 * like a draft (docs/playbooks.md).
 */
export function readPlaybookFile(path: string): PlanTypeConfig {
  return parsePlanTypeConfigInput('RENEWAL_DEFENSE', JSON.parse(readFileSync(path, 'utf8')) as unknown, 1, path);
}

/**
 * Runs the harness with the given environment, writing the tables to `print`. With a playbook
 * the scenarios run under it; their expectations are the built-in playbook's, so agreement is
 * reported, not required.
 */
export async function runEvalCli(env: NodeJS.ProcessEnv, print: (text: string) => void, options: { playbookFile?: string } = {}): Promise<EvalRun> {
  const config = loadConfig(env);
  const clock = () => EVAL_NOW;
  const playbook = options.playbookFile ? readPlaybookFile(options.playbookFile) : undefined;
  if (options.playbookFile) print(`playbook: ${options.playbookFile}\n`);
  const rules = await runEval('rules generator', new PlanProposalGenerator({ llm: null, fallback: 'rules', clock }), GOLDEN_SET, playbook);
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
    model = await runEval(`model ${config.GEMINI_MODEL}`, new PlanProposalGenerator({ llm, fallback: 'error', clock }), GOLDEN_SET, playbook);
    print('');
    print(formatSummary(model));
  } else {
    print('\n(model pass skipped: GEMINI_API_KEY is not set)');
  }
  const perfect = rules.stepsAgreement === 1 && rules.evidenceExact === 1 && rules.warningsAgreement === 1;
  if (playbook) return { rules, model, exitCode: 0 };
  if (!perfect) print('\nFAIL: the rules generator must agree with every scenario (steps, evidence, warnings)');
  return { rules, model, exitCode: perfect ? 0 : 1 };
}

/* istanbul ignore next -- the CLI entry; tests call runEvalCli */
if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--config');
  const playbookFile = at === -1 ? undefined : process.argv[at + 1];
  runEvalCli(process.env, (text) => console.log(text), playbookFile ? { playbookFile } : {}).then(
    (run) => {
      process.exitCode = run.exitCode;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
