import { callApi } from '../lib/api.js';
import type { BenchCase } from '../lib/benchCase.js';
import { Skipped } from '../lib/budget.js';
import { fmtRun, verdictOf } from '../lib/figures.js';
import type { LoadResult } from '../lib/loadJob.js';
import type { ServerProcess } from '../lib/processes.js';
import type { Row } from '../lib/report.js';
import { rate, ratio } from '../lib/stats.js';

// Case 11 (BENCH_ONLY=11): proposePlan for a tenant with a published playbook version against
// a tenant on the built-in version 0 (docs/playbooks.md), same server and store, 16 in flight
// (goal: ≥ 0.95× the built-in's throughput). BENCH_PLAYBOOK_ROUNDS rounds alternate ABBA
// (built-in, published, published, built-in, …) so that drift in the machine's load hits both
// sides alike; each side's figure is its requests over its measured windows, summed.

const CONCURRENCY = 16;
const GOAL = '≥ 0.95×, no errors';
const BUILT_IN = 'bench-default';
const PUBLISHED = 'bench-playbook';

/** The same proposal inputs for both tenants (all three steps under the built-in rules). */
const BODIES = Array.from({ length: 512 }, (_, i) =>
  JSON.stringify({
    query: 'mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { source plan { planId planTypeConfigVersion steps { actionType dueAt } } } }',
    operationName: 'Propose',
    variables: {
      input: {
        accountId: `acct-${i}`,
        planType: 'RENEWAL_DEFENSE',
        posture: { health: 'AT_RISK', renewal_date: '2027-01-07' },
        signals: [
          { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
          { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
          { type: 'USAGE_DROP', percent: 35 },
        ],
      },
    },
  }),
);

/** A playbook that differs from the default everywhere a proposal reads it. */
const PUBLISHED_INPUT = {
  allowedStepActionTypes: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
  defaultSequence: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
  objectiveTemplate: 'Keep {account_id} past {renewal_date}',
  expiresAtDaysFromCreation: 21,
  stepSchedule: [
    { actionType: 'REQUEST_RENEWAL_MEETING', ownerRole: 'ACCOUNT_EXECUTIVE', dueDaysBeforeRenewal: 40, dueDaysAfterCreation: 5 },
    { actionType: 'PREP_RENEWAL_BRIEF', ownerRole: 'CSM', dueDaysBeforeRenewal: 30, dueDaysAfterCreation: 8 },
    { actionType: 'ESCALATE_SUPPORT_RISK', ownerRole: 'SUPPORT_MANAGER', dueDaysBeforeRenewal: 20, dueDaysAfterCreation: 12 },
  ],
  rules: { renewalWindowDays: 90, usageDropPercent: 25, escalationMinSeverity: 'HIGH' },
};

/** Requests per second over all of a side's measured windows. */
const pooledRate = (runs: LoadResult[]) => runs.reduce((n, r) => n + r.requests, 0) / (runs.reduce((t, r) => t + r.elapsedMs, 0) / 1000);

export const playbookCase: BenchCase = {
  id: '11',
  title: 'proposePlan with a published playbook vs the built-in one',
  slice: 0.0368,
  seeds: [`${PUBLISHED}: one published RENEWAL_DEFENSE playbook version (through the API)`],
  async run(h, window) {
    const { cfg } = h;
    const what = `proposePlan, ${CONCURRENCY} in flight: published playbook vs built-in (version 0)`;
    let server: ServerProcess | null = null;
    try {
      server = await h.server('playbook', 'bench_playbook');
      const url = server.url;
      // Two admins: the one who publishes is not the one who drafted.
      const draft = await callApi<{ draftPlanTypeConfig: { version: number } }>(
        url,
        await h.tokenFor(PUBLISHED, ['plan-admin'], 'admin-a'),
        'mutation($i: PlanTypeConfigInput!) { draftPlanTypeConfig(planType: RENEWAL_DEFENSE, input: $i) { version } }',
        { i: PUBLISHED_INPUT },
      );
      const version = draft.draftPlanTypeConfig.version;
      await callApi(url, await h.tokenFor(PUBLISHED, ['plan-admin'], 'admin-b'), 'mutation($v: Int!) { publishPlanTypeConfig(planType: RENEWAL_DEFENSE, version: $v) { version } }', { v: version });
      h.log(`case 11: published version ${version} for tenant ${PUBLISHED}`);

      const sides = [
        { name: 'built-in', token: await h.tokenFor(BUILT_IN, ['plan-proposer']), expect: '"planTypeConfigVersion":0', runs: [] as LoadResult[] },
        { name: 'published', token: await h.tokenFor(PUBLISHED, ['plan-proposer']), expect: `"planTypeConfigVersion":${version}`, runs: [] as LoadResult[] },
      ];
      let complete = true;
      for (let round = 1; round <= cfg.playbookRounds && complete; round++) {
        // ABBA: neither side always runs first (the first run of a round meets a colder process).
        for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
          if (!window.fits()) {
            complete = false;
            break;
          }
          const label = `proposePlan c=${CONCURRENCY}, ${side.name} playbook, round ${round}`;
          side.runs.push(await h.run(h.gqlJob(server, side.token, label, BODIES, h.limits(label, CONCURRENCY), side.expect), window, server));
        }
      }
      const [builtIn, published] = sides as [(typeof sides)[0], (typeof sides)[0]];
      if (!builtIn.runs.length || !published.runs.length) throw new Skipped('time budget');
      const errors = [...builtIn.runs, ...published.runs].reduce((n, r) => n + r.errors, 0);
      const r = pooledRate(published.runs) / pooledRate(builtIn.runs);
      if (!complete) h.notes.push(`11: the window closed after ${published.runs.length} of ${cfg.playbookRounds} rounds.`);
      const row: Row = {
        id: '11',
        what,
        load: `${published.runs.length} alternating rounds (ABBA) of ${cfg.durationMs / 1000} s per side, one server`,
        service: `published version ${version}: ${rate(pooledRate(published.runs))} (last round ${fmtRun(published.runs.at(-1)!, false)})`,
        baseline: `built-in: ${rate(pooledRate(builtIn.runs))} (last round ${fmtRun(builtIn.runs.at(-1)!, false)})`,
        ratio: ratio(r),
        goal: GOAL,
        verdict: verdictOf(errors === 0 ? r >= 0.95 : null, complete),
        figures: { ratio: r, errors, version, builtIn: builtIn.runs, published: published.runs },
      };
      return [row];
    } catch (e) {
      return [h.failRow('11', what, GOAL, e)];
    } finally {
      await server?.stop();
      await h.admin.db('bench_playbook').dropDatabase().catch(() => undefined);
    }
  },
};
