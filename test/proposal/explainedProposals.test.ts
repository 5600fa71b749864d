import { describe, expect, it } from '@jest/globals';
import { checkEvidence } from '../../src/services/proposal/checkEvidence.js';
import { collectInputWarnings, MAX_WARNINGS } from '../../src/services/proposal/inputWarnings.js';
import { buildProposalAudit } from '../../src/services/proposal/proposalAudit.js';
import { sanitizeProse } from '../../src/services/proposal/sanitizeText.js';
import { sanitizeProposedSteps } from '../../src/services/proposal/sanitizeProposal.js';
import { remapEvidenceIndexes } from '../../src/services/proposal/remapEvidence.js';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';

const CONTEXT = {
  posture: { health: 'AT_RISK', renewal_date: '2027-01-07' },
  signals: [{ type: 'USAGE_DROP', percent: 35 }, 'text'],
  history: [{ action_type: 'PREP_RENEWAL_BRIEF', at: '2026-11-01T00:00:00Z' }],
  tenant_goals: { retention_target: 0.95 },
};
const A = 'PREP_RENEWAL_BRIEF';
const ev = (source: string, index: number | null, field: string | null) => ({ source, index, field });

describe('checkEvidence', () => {
  it('keeps evidence that points at a real input element', () => {
    const { evidence, dropped } = checkEvidence(
      [
        { source: 'SIGNAL', index: 0 },
        { source: 'SIGNAL', index: 0, field: 'percent' },
        { source: 'HISTORY', index: 0, field: 'at' },
        { source: 'POSTURE', index: 3, field: 'health' },
        { source: 'TENANT_GOALS', field: 'retention_target' },
        { source: 'SIGNAL', index: 1, field: '' },
      ],
      CONTEXT,
      A,
    );
    expect(evidence).toEqual([
      ev('SIGNAL', 0, null),
      ev('SIGNAL', 0, 'percent'),
      ev('HISTORY', 0, 'at'),
      ev('POSTURE', null, 'health'),
      ev('TENANT_GOALS', null, 'retention_target'),
      ev('SIGNAL', 1, null),
    ]);
    expect(dropped).toEqual([]);
  });

  it('drops evidence that points at nothing, saying why, and accepts a lone item or nothing', () => {
    const { evidence, dropped } = checkEvidence(
      [
        null,
        { index: 0 },
        { source: 'PLAN', index: 0 },
        { source: 'SIGNAL', index: 0, field: 7 },
        { source: 'SIGNAL', index: 1.5 },
        { source: 'SIGNAL', index: 9 },
        { source: 'SIGNAL', index: -1 },
        { source: 'HISTORY', index: 0, field: 'x'.repeat(65) },
        { source: 'SIGNAL', index: 1, field: 'type' },
        { source: 'POSTURE', field: '__proto__' },
        { source: 'POSTURE' },
        { source: 'TENANT_GOALS', field: 'toString' },
      ],
      CONTEXT,
      A,
    );
    expect(evidence).toEqual([]);
    expect(dropped.map((d) => d.reason)).toEqual([
      'malformed_evidence',
      'malformed_evidence',
      'unknown_source',
      'malformed_evidence',
      'malformed_evidence',
      'index_out_of_range',
      'index_out_of_range',
      'unknown_field',
      'unknown_field',
      'unknown_field',
      'unknown_field',
      'unknown_field',
    ]);
    expect(dropped[2]).toEqual({ action_type: A, source: 'PLAN', index: 0, field: null, reason: 'unknown_source' });
    expect(checkEvidence({ source: 'SIGNAL', index: 0 }, CONTEXT, A).evidence).toEqual([ev('SIGNAL', 0, null)]);
    expect(checkEvidence(undefined, CONTEXT, A)).toEqual({ evidence: [], dropped: [] });
    expect(checkEvidence([{ source: 'HISTORY', index: 0 }], {}, A).dropped[0]!.reason).toBe('index_out_of_range');
  });

  it('drops duplicates and keeps ten at most', () => {
    const signals = Array.from({ length: 12 }, () => ({ type: 'CHAMPION_LEFT' }));
    const items = [{ source: 'SIGNAL', index: 0 }, { source: 'SIGNAL', index: 0 }, ...signals.map((_, i) => ({ source: 'SIGNAL', index: i }))];
    const { evidence, dropped } = checkEvidence(items, { signals }, A);
    expect(evidence).toHaveLength(10);
    expect(dropped.map((d) => d.reason)).toEqual(['duplicate_evidence', 'duplicate_evidence', 'too_many_evidence', 'too_many_evidence']);
  });

  it('is applied by the sanitizer, which reports what it dropped and keeps the step', () => {
    const out = sanitizeProposedSteps({ steps: [{ action_type: A, rationale: '<i>Brief</i> first', evidence: [{ source: 'SIGNAL', index: 5 }, { source: 'SIGNAL', index: 0 }] }] }, RENEWAL_DEFENSE_CONFIG, CONTEXT);
    expect(out.steps).toEqual([{ action_type: A, depends_on: [], rationale: 'Brief first', evidence: [ev('SIGNAL', 0, null)] }]);
    expect(out.dropped_evidence).toEqual([{ action_type: A, source: 'SIGNAL', index: 5, field: null, reason: 'index_out_of_range' }]);
  });
});

describe('collectInputWarnings', () => {
  it('names each ignored or unreadable element with its path', () => {
    const warnings = collectInputWarnings({
      signals: [
        'RENEWAL_WINDOW',
        'renewal soon',
        '[{"type":"RENEWAL_WINDOW"}]',
        42,
        null,
        ['x'],
        { days_to_renewal: 4 },
        { type: 'renewal_window' },
        { type: 'PRICE_HIKE' },
        { type: 'RENEWAL_WINDOW', renewal_date: 'soon' },
        { type: 'USAGE_DROP', percent: 140, note: 'x' },
        { type: 'CHAMPION_LEFT', who: 'Ann' },
      ],
      history: [7, { at: '2026-01-01' }, { action_type: 'X', at: 'yesterday' }, { action_type: 'X', at: '2026-01-01' }],
      posture: { health: 'GREEN', renewal_date: 20270107 },
    });
    expect(warnings.map((w) => [w.code, w.path])).toEqual([
      ['MALFORMED_SIGNAL', 'signals[0]'],
      ['MALFORMED_SIGNAL', 'signals[1]'],
      ['MALFORMED_SIGNAL', 'signals[2]'],
      ['MALFORMED_SIGNAL', 'signals[3]'],
      ['MALFORMED_SIGNAL', 'signals[4]'],
      ['MALFORMED_SIGNAL', 'signals[5]'],
      ['MALFORMED_SIGNAL', 'signals[6].type'],
      ['UNKNOWN_SIGNAL_TYPE', 'signals[7]'],
      ['UNKNOWN_SIGNAL_TYPE', 'signals[8]'],
      ['UNREADABLE_DATE', 'signals[9].renewal_date'],
      ['MALFORMED_SIGNAL', 'signals[10].percent'],
      ['UNKNOWN_SIGNAL_FIELD', 'signals[10].note'],
      ['UNKNOWN_SIGNAL_FIELD', 'signals[11].who'],
      ['MALFORMED_HISTORY_ITEM', 'history[0]'],
      ['MALFORMED_HISTORY_ITEM', 'history[1].action_type'],
      ['UNREADABLE_DATE', 'history[2].at'],
      ['UNREADABLE_POSTURE_FIELD', 'posture.health'],
      ['UNREADABLE_DATE', 'posture.renewal_date'],
    ]);
    const message = (path: string) => warnings.find((w) => w.path === path)!.message;
    expect(message('signals[0]')).toMatch(/send an object such as \{"type": "RENEWAL_WINDOW"\}/);
    expect(message('signals[1]')).toMatch(/a list sent as one string arrives as a one-item list/);
    expect(message('signals[2]')).toMatch(/JSON text/);
    expect(message('signals[3]')).toMatch(/a number, not an object/);
    expect(message('signals[4]')).toMatch(/null/);
    expect(message('signals[5]')).toMatch(/a list/);
    expect(message('signals[7]')).toMatch(/did you mean RENEWAL_WINDOW\?/);
    expect(message('signals[8]')).not.toMatch(/did you mean/);
    expect(message('signals[11].who')).toMatch(/its fields: none/);
  });

  it('quotes values briefly and safely, and lists 50 warnings at most', () => {
    const long = collectInputWarnings({ signals: [{ type: `${'Z'.repeat(100)}\u0000` }] })[0]!;
    expect(long.message).toMatch(/Z…/);
    expect(long.message.includes('\u0000')).toBe(false);
    const cyclic: Record<string, unknown> = { type: 'RENEWAL_WINDOW' };
    cyclic.days_to_renewal = cyclic;
    expect(collectInputWarnings({ signals: [cyclic] })[0]!.code).toBe('MALFORMED_SIGNAL');
    const many = collectInputWarnings({ signals: Array.from({ length: 80 }, () => 1) });
    expect(many).toHaveLength(MAX_WARNINGS);
    expect(many.at(-1)).toEqual({ code: 'TOO_MANY_WARNINGS', message: '31 more warnings were left out', path: null });
    expect(collectInputWarnings({})).toEqual([]);
  });
});

describe('buildProposalAudit', () => {
  it('writes absent explanation fields as null and []', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const audit = buildProposalAudit({
      proposal_id: 'p',
      plan: {
        plan_id: 'x',
        plan_type: 'RENEWAL_DEFENSE',
        tenant_id: 't',
        account_id: 'a',
        objective: 'o',
        plan_status: 'DRAFT',
        steps: [{ step_id: 's', action_type: A, status: 'PENDING', sequence: 1, dependencies: [] }],
        expires_at: now,
        created_at: now,
        updated_at: now,
      },
      source: 'RULES',
      model: null,
      prompt_version: null,
      rules_version: null,
      input_summary: { signals_count: 0, history_count: 0, signal_types: {}, unknown_signal_types_count: 0, malformed_signals_count: 0, posture_keys: [], tenant_goals_keys: [] },
      dropped_steps: [],
      dropped_evidence: [],
      warnings: [],
      fallback_reason: null,
      prompt_truncated: [],
    });
    expect(audit.steps).toEqual([{ step_id: 's', action_type: A, sequence: 1, rationale: null, evidence: [], due_at: null, owner_role: null }]);
    expect(audit.renewal_date).toBeNull();
  });
});

describe('sanitizeProse', () => {
  it('removes markup and stray angle brackets as well as control characters', () => {
    expect(sanitizeProse('Call <b>them</b> <script>alert(1)</script> now > later\u0007', 100)).toBe('Call them alert(1) now later');
  });
});

describe('remapEvidenceIndexes', () => {
  it('maps SIGNAL and HISTORY positions through the shown lists and leaves everything else alone', () => {
    const shown = { signals: [2, 5] };
    expect(remapEvidenceIndexes('x', shown)).toBe('x');
    expect(remapEvidenceIndexes({ steps: 'no' }, shown)).toEqual({ steps: 'no' });
    const raw = { objective: 'o', steps: [null, { action_type: A }, { action_type: A, evidence: [7, { source: 'SIGNAL', index: 'a' }, { source: 'SIGNAL', index: 1 }, { source: 'SIGNAL', index: 9 }, { source: 'HISTORY', index: 0 }, { source: 'POSTURE', index: 0 }] }] };
    expect(remapEvidenceIndexes(raw, shown)).toEqual({
      objective: 'o',
      steps: [null, { action_type: A }, { action_type: A, evidence: [7, { source: 'SIGNAL', index: 'a' }, { source: 'SIGNAL', index: 5 }, { source: 'SIGNAL', index: -1 }, { source: 'HISTORY', index: 0 }, { source: 'POSTURE', index: 0 }] }],
    });
    expect(remapEvidenceIndexes(raw, {})).toBe(raw);
    expect((remapEvidenceIndexes(raw, { history: [3] }) as typeof raw).steps[2]!.evidence![4]).toEqual({ source: 'HISTORY', index: 3 });
  });
});
