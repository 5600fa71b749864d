import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderRulesMarkdown } from '../../src/services/proposal/rulesDoc.js';

const DOC = new URL('../../docs/rules-generator.md', import.meta.url);

describe('docs/rules-generator.md', () => {
  it('matches RULES_TABLE (rewrite it with UPDATE_RULES_DOC=1)', () => {
    if (process.env.UPDATE_RULES_DOC === '1') writeFileSync(DOC, renderRulesMarkdown());
    expect(readFileSync(DOC, 'utf8')).toBe(renderRulesMarkdown());
  });

  it('renders one table row per rule', () => {
    expect(renderRulesMarkdown()).toContain('| PREP_RENEWAL_BRIEF | Always. | — |');
  });
});
