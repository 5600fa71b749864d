import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { fromHex, verifyInclusion, type Hash } from '../../src/domain/merkleTree.js';
import { fakeReplies, startFakeGemini, type FakeGemini } from '../support/fakeGemini.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Tenant playbooks through the API, on the real store: four-eyes publishing, validation,
// tenant isolation, a publish in force in the next proposal and approval, the ledger entry in
// the signed log, and two service instances on one store.

const RD = 'RENEWAL_DEFENSE';
const M = 'REQUEST_RENEWAL_MEETING';
const B = 'PREP_RENEWAL_BRIEF';
const E = 'ESCALATE_SUPPORT_RISK';

const VERSION_FIELDS = `id planType version status contentHash createdBy createdAt publishedBy publishedAt basedOnVersion note ledgerEntryId
  config { version allowedStepActionTypes defaultSequence objectiveTemplate expiresAtDaysFromCreation
    stepSchedule { actionType ownerRole dueDaysBeforeRenewal dueDaysAfterCreation }
    gatePolicy { humanTouchActionTypes elevatedRiskActionTypes elevatedApproverRole }
    rules { renewalWindowDays usageDropPercent meetingCooldownDays escalationMinSeverity } }`;
const DRAFT = `mutation($input: PlanTypeConfigInput!, $based: Int, $note: String) {
  draftPlanTypeConfig(planType: RENEWAL_DEFENSE, input: $input, basedOnVersion: $based, note: $note) { ${VERSION_FIELDS} } }`;
const PUBLISH = `mutation($v: Int!) { publishPlanTypeConfig(planType: RENEWAL_DEFENSE, version: $v) { ${VERSION_FIELDS} } }`;
const RETIRE = `mutation($v: Int!) { retirePlanTypeConfigDraft(planType: RENEWAL_DEFENSE, version: $v) { version status } }`;
const VERSIONS = `{ planTypeConfigVersions(planType: RENEWAL_DEFENSE) { ${VERSION_FIELDS} } }`;
const DIFF = `query($f: Int!, $t: Int!) { planTypeConfigDiff(planType: RENEWAL_DEFENSE, fromVersion: $f, toVersion: $t) { path before after } }`;
const CONFIG = `{ planTypeConfig(planType: RENEWAL_DEFENSE) { version allowedStepActionTypes objectiveTemplate } planTypes { version } }`;
const PROPOSE = `mutation($input: ProposePlanInput!) { proposePlan(input: $input) { source plan { planId objective expiresAt createdAt planTypeConfigVersion
  steps { actionType dueAt ownerRole } } } }`;
const APPROVE = `mutation($id: ID!) { approvePlan(planId: $id) { ok reasons { code message } plan { status } } }`;
const STORY = `query($id: ID!) { planLedger(filter: { planId: $id }) { edges { node { entryId seq eventType actor data hash } } } }`;
const CHECKPOINT = '{ ledgerCheckpoint { treeSize rootHash } }';
const INCLUSION = 'query($id: ID!, $s: Int) { ledgerInclusionProof(entryId: $id, treeSize: $s) { leafIndex treeSize leafHash auditPath } }';

interface Step {
  actionType: string;
  dueAt: string;
  ownerRole: string;
}
interface Proposed {
  proposePlan: { source: string; plan: { planId: string; objective: string; expiresAt: string; createdAt: string; planTypeConfigVersion: number; steps: Step[] } };
}
interface Version {
  id: string;
  version: number;
  status: string;
  contentHash: string;
  createdBy: string;
  publishedBy: string | null;
  ledgerEntryId: string | null;
  config: { version: number; allowedStepActionTypes: string[] };
}

/** The built-in default as input, with `change` applied. */
interface Input {
  allowedStepActionTypes: string[];
  defaultSequence: string[];
  objectiveTemplate: string;
  expiresAtDaysFromCreation: number;
  stepSchedule: { actionType: string; ownerRole: string; dueDaysBeforeRenewal: number; dueDaysAfterCreation: number }[];
  gatePolicy?: { humanTouchActionTypes?: string[] };
}
function input(change: (i: Input) => void = () => undefined): Input {
  const i: Input = {
    allowedStepActionTypes: [M, B, E],
    defaultSequence: [M, B, E],
    objectiveTemplate: 'Secure the renewal of account {account_id} before {renewal_date}',
    expiresAtDaysFromCreation: 30,
    stepSchedule: [
      { actionType: M, ownerRole: 'ACCOUNT_EXECUTIVE', dueDaysBeforeRenewal: 60, dueDaysAfterCreation: 7 },
      { actionType: B, ownerRole: 'CSM', dueDaysBeforeRenewal: 45, dueDaysAfterCreation: 10 },
      { actionType: E, ownerRole: 'SUPPORT_MANAGER', dueDaysBeforeRenewal: 30, dueDaysAfterCreation: 14 },
    ],
  };
  change(i);
  return i;
}

/** No escalation step allowed, the brief due 20 days before the renewal, a new objective and expiry. */
const withoutEscalation = input((i) => {
  i.allowedStepActionTypes = [M, B];
  i.defaultSequence = [M, B];
  i.stepSchedule = [
    { actionType: M, ownerRole: 'ACCOUNT_EXECUTIVE', dueDaysBeforeRenewal: 60, dueDaysAfterCreation: 7 },
    { actionType: B, ownerRole: 'RENEWAL_DESK', dueDaysBeforeRenewal: 20, dueDaysAfterCreation: 10 },
  ];
  i.objectiveTemplate = 'Keep {account_id} past {renewal_date}';
  i.expiresAtDaysFromCreation = 10;
});

const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 90 },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 1 },
];
const DAY = 86_400_000;

function ok<T>(res: { data?: T | null; errors?: unknown[] }): T {
  expect(res.errors).toBeUndefined();
  return res.data as T;
}
const codeOf = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.[0]?.extensions?.code;

describe('tenant playbooks API', () => {
  let server: TestServer;
  const tokens: Record<string, string> = {};
  const gql = <T>(query: string, variables: Record<string, unknown>, who: string) => server.gql<T>(query, variables, tokens[who]);

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_CHECKPOINT_INTERVAL_MS: '100' });
    tokens.alice = await server.token('acme', ['plan-admin'], 'alice');
    tokens.bob = await server.token('acme', ['plan-admin'], 'bob');
    tokens.paula = await server.token('acme', ['plan-proposer', 'plan-approver'], 'paula');
    tokens.vera = await server.token('acme', ['plan-viewer'], 'vera');
    tokens.mallory = await server.token('globex', ['plan-admin', 'plan-proposer'], 'mallory');
    tokens.mike = await server.token('globex', ['plan-admin'], 'mike');
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  const propose = async (who: string, accountId: string) =>
    ok(await gql<Proposed>(PROPOSE, { input: { accountId, planType: RD, signals: SIGNALS } }, who)).proposePlan.plan;

  it('validation: an incoherent version is BAD_USER_INPUT naming the path, and nothing is stored', async () => {
    const bad = input((i) => {
      i.stepSchedule[2]!.dueDaysBeforeRenewal = 50;
    });
    const res = await gql<unknown>(DRAFT, { input: bad }, 'alice');
    expect(codeOf(res as never)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.errors)).toContain('input.stepSchedule.2.dueDaysBeforeRenewal');
    const placeholder = await gql<unknown>(DRAFT, { input: input((i) => void (i.objectiveTemplate = 'Save {customer}')) }, 'alice');
    expect(codeOf(placeholder as never)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(placeholder.errors)).toContain('input.objectiveTemplate');
    expect(ok(await gql<{ planTypeConfigVersions: Version[] }>(VERSIONS, {}, 'vera')).planTypeConfigVersions.map((v) => v.version)).toEqual([0]);
  });

  it('roles: drafting needs plan-admin; viewers read versions', async () => {
    expect(codeOf((await gql(DRAFT, { input: input() }, 'paula')) as never)).toBe('FORBIDDEN');
    expect(codeOf((await gql(DRAFT, { input: input() }, 'vera')) as never)).toBe('FORBIDDEN');
    const [builtIn] = ok(await gql<{ planTypeConfigVersions: Version[] }>(VERSIONS, {}, 'vera')).planTypeConfigVersions;
    expect(builtIn).toMatchObject({ version: 0, status: 'PUBLISHED', createdBy: 'system:built-in' });
  });

  it('four eyes: the author cannot publish (FORBIDDEN); another admin can, and the next proposal follows it', async () => {
    const before = await propose('paula', 'acct-before');
    expect(before.planTypeConfigVersion).toBe(0);
    expect(before.steps.map((s) => s.actionType)).toEqual([M, B, E]);

    const drafted = ok(await gql<{ draftPlanTypeConfig: Version }>(DRAFT, { input: withoutEscalation, based: 0, note: 'no escalations' }, 'alice')).draftPlanTypeConfig;
    expect(drafted).toMatchObject({ version: 1, status: 'DRAFT', createdBy: 'alice', publishedBy: null });
    expect(codeOf((await gql(PUBLISH, { v: 1 }, 'alice')) as never)).toBe('FORBIDDEN');
    expect(ok(await gql<{ planTypeConfig: { version: number } }>(CONFIG, {}, 'vera')).planTypeConfig.version).toBe(0);

    const published = ok(await gql<{ publishPlanTypeConfig: Version }>(PUBLISH, { v: 1 }, 'bob')).publishPlanTypeConfig;
    expect(published).toMatchObject({ version: 1, status: 'PUBLISHED', publishedBy: 'bob', contentHash: drafted.contentHash });
    expect(ok(await gql<{ planTypeConfig: { version: number; allowedStepActionTypes: string[] }; planTypes: { version: number }[] }>(CONFIG, {}, 'vera'))).toMatchObject({
      planTypeConfig: { version: 1, allowedStepActionTypes: [M, B] },
      planTypes: [{ version: 1 }],
    });

    // HIGH support risk, but the version allows no escalation; the brief's due offset and owner moved.
    const after = await propose('paula', 'acct-after');
    expect(after.planTypeConfigVersion).toBe(1);
    // The PLAN_CREATED entry (hashed, sealed) says which version the plan was proposed under.
    const created = ok(await gql<{ planLedger: { edges: { node: { eventType: string; data: Record<string, unknown> } }[] } }>(STORY, { id: after.planId }, 'vera')).planLedger.edges[0]!.node;
    expect(created).toMatchObject({ eventType: 'PLAN_CREATED', data: { plan_type_config_version: 1 } });
    expect(after.steps.map((s) => s.actionType)).toEqual([M, B]);
    // The renewal is a date (midnight UTC) 90 days after the creation's day: offsets count from it.
    const renewal = Date.parse(new Date(new Date(after.createdAt).getTime() + 90 * DAY).toISOString().slice(0, 10));
    const brief = after.steps[1]!;
    expect(brief.ownerRole).toBe('RENEWAL_DESK');
    expect((renewal - Date.parse(brief.dueAt)) / DAY).toBe(20);
    expect((renewal - Date.parse(before.steps[1]!.dueAt)) / DAY).toBe(45);
    expect(after.objective).toMatch(/^Keep acct-after past \d{4}-\d{2}-\d{2}$/);
    expect(Date.parse(after.expiresAt) - Date.parse(after.createdAt)).toBe(10 * DAY);

    const versions = ok(await gql<{ planTypeConfigVersions: Version[] }>(VERSIONS, {}, 'vera')).planTypeConfigVersions;
    expect(versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'PUBLISHED'],
      [0, 'SUPERSEDED'],
    ]);
    const diff = ok(await gql<{ planTypeConfigDiff: { path: string; before: unknown; after: unknown }[] }>(DIFF, { f: 0, t: 1 }, 'vera')).planTypeConfigDiff;
    expect(diff).toContainEqual({ path: 'stepSchedule.PREP_RENEWAL_BRIEF.dueDaysBeforeRenewal', before: 45, after: 20 });
    expect(diff).toContainEqual({ path: 'stepSchedule.ESCALATE_SUPPORT_RISK.ownerRole', before: 'SUPPORT_MANAGER', after: null });
    expect(diff).toContainEqual({ path: 'expiresAtDaysFromCreation', before: 30, after: 10 });
  });

  it("approval applies the version published then, and its entry records which", async () => {
    const plan = await propose('paula', 'acct-gated');
    const policy = input((i) => {
      i.gatePolicy = { humanTouchActionTypes: [M] };
    });
    const v = ok(await gql<{ draftPlanTypeConfig: Version }>(DRAFT, { input: policy }, 'bob')).draftPlanTypeConfig.version;
    ok(await gql(PUBLISH, { v }, 'alice'));
    const refused = ok(await gql<{ approvePlan: { ok: boolean; reasons: { code: string }[] } }>(APPROVE, { id: plan.planId }, 'paula')).approvePlan;
    expect(refused.ok).toBe(false);
    expect(refused.reasons.map((r) => r.code)).toEqual(['HUMAN_TOUCH_REQUIRED']);

    const v2 = ok(await gql<{ draftPlanTypeConfig: Version }>(DRAFT, { input: withoutEscalation, based: v }, 'alice')).draftPlanTypeConfig.version;
    ok(await gql(PUBLISH, { v: v2 }, 'bob'));
    expect(ok(await gql<{ approvePlan: { ok: boolean } }>(APPROVE, { id: plan.planId }, 'paula')).approvePlan.ok).toBe(true);
    const story = ok(await gql<{ planLedger: { edges: { node: { eventType: string; data: Record<string, unknown> } }[] } }>(STORY, { id: plan.planId }, 'vera')).planLedger.edges;
    const approved = story.find((e) => e.node.eventType === 'PLAN_APPROVED')!.node;
    expect(approved.data.plan_type_config_version).toBe(v2);
  });

  it('a retired draft cannot be published; tenants never see each other', async () => {
    const v = ok(await gql<{ draftPlanTypeConfig: Version }>(DRAFT, { input: input() }, 'alice')).draftPlanTypeConfig.version;
    expect(ok(await gql<{ retirePlanTypeConfigDraft: { status: string } }>(RETIRE, { v }, 'alice')).retirePlanTypeConfigDraft.status).toBe('RETIRED');
    expect(codeOf((await gql(PUBLISH, { v }, 'bob')) as never)).toBe('INVALID_TRANSITION');
    expect(codeOf((await gql(PUBLISH, { v: 0 }, 'bob')) as never)).toBe('INVALID_TRANSITION');
    expect(codeOf((await gql(PUBLISH, { v: -1 }, 'bob')) as never)).toBe('BAD_USER_INPUT');

    // globex: only its built-in version, none of acme's; acme's version numbers are not globex's.
    expect(ok(await gql<{ planTypeConfigVersions: Version[] }>(VERSIONS, {}, 'mallory')).planTypeConfigVersions.map((x) => x.version)).toEqual([0]);
    expect(codeOf((await gql(PUBLISH, { v: 1 }, 'mallory')) as never)).toBe('NOT_FOUND');
    expect(codeOf((await gql(DIFF, { f: 0, t: 1 }, 'mallory')) as never)).toBe('NOT_FOUND');
    const theirs = await propose('mallory', 'acct-globex');
    expect(theirs.planTypeConfigVersion).toBe(0);
    expect(theirs.steps.map((s) => s.actionType)).toEqual([M, B, E]);
  });

  it('versions are Nodes: node(id:) and nodes(ids:) read them back, within the tenant only', async () => {
    const versions = ok(await gql<{ planTypeConfigVersions: Version[] }>(VERSIONS, {}, 'vera')).planTypeConfigVersions;
    const [newest] = versions;
    const builtIn = versions.at(-1)!;
    const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on PlanTypeConfigVersion { version status createdBy } } }';
    const mine = ok(await gql<{ nodes: ({ id: string; version: number; status: string } | null)[] }>(NODES, { ids: [builtIn.id, newest!.id, 'garbage'] }, 'vera')).nodes;
    expect(mine).toEqual([
      { __typename: 'PlanTypeConfigVersion', id: builtIn.id, version: 0, status: 'SUPERSEDED', createdBy: 'system:built-in' },
      { __typename: 'PlanTypeConfigVersion', id: newest!.id, version: newest!.version, status: newest!.status, createdBy: newest!.createdBy },
      null,
    ]);
    expect(new Set(versions.map((v) => v.id)).size).toBe(versions.length);
    // Another tenant: acme's stored version is nobody's; version 0 is its own built-in one (in force there).
    const theirs = ok(await gql<{ nodes: ({ status: string } | null)[] }>(NODES, { ids: [newest!.id, builtIn.id] }, 'mallory')).nodes;
    expect(theirs[0]).toBeNull();
    expect(theirs[1]).toMatchObject({ status: 'PUBLISHED' });
  });

  it('a published version is an entry of the signed log, provable like a plan event', async () => {
    const versions = ok(await gql<{ planTypeConfigVersions: Version[] }>(VERSIONS, {}, 'vera')).planTypeConfigVersions;
    const v1 = versions.find((v) => v.version === 1)!;
    expect(v1.ledgerEntryId).toEqual(expect.any(String));
    const chain = ok(await gql<{ planLedger: { edges: { node: { entryId: string; eventType: string; actor: string; data: Record<string, unknown>; hash: string } }[] } }>(STORY, { id: `config:${RD}` }, 'vera'))
      .planLedger.edges.map((e) => e.node);
    const entry = chain.find((e) => e.entryId === v1.ledgerEntryId)!;
    expect(entry).toMatchObject({ eventType: 'PLAN_TYPE_CONFIG_PUBLISHED', actor: 'bob', data: { version: 1, content_hash: v1.contentHash } });
    let checkpoint: { treeSize: number; rootHash: string } | null = null;
    for (let i = 0; i < 100 && !checkpoint; i++) {
      const latest = ok(await gql<{ ledgerCheckpoint: { treeSize: number; rootHash: string } | null }>(CHECKPOINT, {}, 'vera')).ledgerCheckpoint;
      const proof = latest && (await gql<{ ledgerInclusionProof: unknown }>(INCLUSION, { id: entry.entryId, s: latest.treeSize }, 'vera')).data?.ledgerInclusionProof;
      if (proof) checkpoint = latest;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(checkpoint).not.toBeNull();
    const proof = ok(await gql<{ ledgerInclusionProof: { leafIndex: number; treeSize: number; leafHash: string; auditPath: string[] } }>(INCLUSION, { id: entry.entryId, s: checkpoint!.treeSize }, 'vera'))
      .ledgerInclusionProof;
    const leaf = new Uint8Array(createHash('sha256').update(Buffer.concat([Buffer.of(0), Buffer.from(entry.hash, 'hex')])).digest());
    expect(proof.leafHash).toBe(Buffer.from(leaf).toString('hex'));
    expect(verifyInclusion(proof.leafIndex, proof.treeSize, leaf, proof.auditPath.map((h) => fromHex(h) as Hash), fromHex(checkpoint!.rootHash) as Hash)).toBe(true);
  });
});

describe('tenant playbooks on two service instances sharing one store', () => {
  let a: TestServer;
  let b: TestServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer({ MONGODB_DB: a.config.MONGODB_DB });
    tokens.alice = await a.token('initech', ['plan-admin'], 'alice');
    tokens.bob = await a.token('initech', ['plan-admin'], 'bob');
    tokens.carol = await a.token('initech', ['plan-admin'], 'carol');
    tokens.paula = await a.token('initech', ['plan-proposer'], 'paula');
  }, 60_000);
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('a publish on one instance is in force on the other within 1 s; racing publishes of one version: one wins, the other is CONFLICT', async () => {
    const proposeOnB = async (accountId: string) =>
      ok(await b.gql<Proposed>(PROPOSE, { input: { accountId, planType: RD, signals: SIGNALS } }, tokens.paula)).proposePlan.plan;
    expect((await proposeOnB('warm-cache')).steps.map((s) => s.actionType)).toEqual([M, B, E]);

    const v = ok(await a.gql<{ draftPlanTypeConfig: Version }>(DRAFT, { input: withoutEscalation }, tokens.alice)).draftPlanTypeConfig.version;
    const racing = await Promise.all([a.gql(PUBLISH, { v }, tokens.bob), b.gql(PUBLISH, { v }, tokens.carol)]);
    expect(racing.map((r) => (r.errors ? codeOf(r as never) : 'OK')).sort()).toEqual(['CONFLICT', 'OK']);
    const publishedAt = Date.now();

    let seenAfter: number | null = null;
    for (let i = 0; seenAfter === null && Date.now() - publishedAt < 3000; i++) {
      const plan = await proposeOnB(`poll-${i}`);
      if (plan.planTypeConfigVersion === v) {
        expect(plan.steps.map((s) => s.actionType)).toEqual([M, B]);
        seenAfter = Date.now() - publishedAt;
      } else await new Promise((r) => setTimeout(r, 50));
    }
    expect(seenAfter).not.toBeNull();
    expect(seenAfter!).toBeLessThan(1000);
  });
});

describe('tenant playbooks and the model (fake Gemini)', () => {
  let fake: FakeGemini;
  let server: TestServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    fake = await startFakeGemini();
    server = await startTestServer({ GEMINI_API_KEY: 'test-key', GEMINI_MODEL: 'gemini-test', GEMINI_BASE_URL: fake.baseUrl });
    tokens.alice = await server.token('umbrella', ['plan-admin'], 'alice');
    tokens.bob = await server.token('umbrella', ['plan-admin'], 'bob');
    tokens.paula = await server.token('umbrella', ['plan-proposer'], 'paula');
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it("the prompt and the response schema's step enum are the published version's allowed steps", async () => {
    const v = ok(await server.gql<{ draftPlanTypeConfig: Version }>(DRAFT, { input: withoutEscalation }, tokens.alice)).draftPlanTypeConfig.version;
    ok(await server.gql(PUBLISH, { v }, tokens.bob));
    fake.enqueue(fakeReplies.answer({ objective: 'x', steps: [{ action_type: B, depends_on: [], rationale: 'brief', evidence: [] }] }));
    const plan = ok(await server.gql<Proposed>(PROPOSE, { input: { accountId: 'acct-llm', planType: RD, signals: SIGNALS } }, tokens.paula)).proposePlan;
    expect(plan.source).toBe('LLM');
    expect(plan.plan.planTypeConfigVersion).toBe(v);
    const request = fake.requests.at(-1)!;
    const schema = JSON.stringify(request.responseSchema);
    expect(schema).toContain(B);
    expect(schema).not.toContain(E);
    expect(request.systemInstruction).toContain('Keep {account_id} past {renewal_date}');
    expect(request.systemInstruction).not.toContain(E);
  });
});
