import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse, validate } from 'graphql';
import { exampleTabs } from '../../ide/src/exampleTabs.js';
import { findProjectRoot } from '../../src/config/projectRoot.js';
import { loadTypeDefs } from '../../src/graphql/loadSchema.js';

const EXAMPLES = readFileSync(resolve(findProjectRoot(), 'docs', 'operations.graphql'), 'utf8');

describe('the IDE tabs from docs/operations.graphql', () => {
  const tabs = exampleTabs(EXAMPLES);

  it('has one tab per operation of the file, in order, each a valid document of one operation', () => {
    const names = parse(EXAMPLES).definitions.flatMap((d) => (d.kind === 'OperationDefinition' && d.name ? [d.name.value] : []));
    expect(tabs.map((t) => t.title)).toEqual(names);
    for (const tab of tabs) {
      const doc = parse(tab.query);
      expect(doc.definitions).toHaveLength(1);
    }
  });

  it('every example is valid against the schema (names, arguments, variables)', () => {
    expect(validate(buildSchema(loadTypeDefs()), parse(EXAMPLES)).map((e) => e.message)).toEqual([]);
  });

  it('keeps the comment above an operation and turns its JSON into the variables', () => {
    const propose = tabs.find((t) => t.title === 'ProposePlan');
    expect(propose?.query).toMatch(/^# \{ "input"/);
    expect(JSON.parse(propose?.variables ?? 'null')).toMatchObject({ input: { accountId: 'acct-42', planType: 'RENEWAL_DEFENSE' } });
    expect(tabs.find((t) => t.title === 'WhoAmI')?.variables).toBeNull();
  });

  it('handles a file of its own shape: header comment, prose comments, nested braces', () => {
    const source = ['# header', '# more header', '', '# prose only', 'query A { a { b } }', '', '# { "x": 1 }', 'mutation B($x: Int) {', '  b(x: $x) {', '    c', '  }', '}', '# not json {', 'query C { c }'].join('\n');
    expect(exampleTabs(source)).toEqual([
      { title: 'A', query: '# prose only\nquery A { a { b } }', variables: null },
      { title: 'B', query: '# { "x": 1 }\nmutation B($x: Int) {\n  b(x: $x) {\n    c\n  }\n}', variables: '{\n  "x": 1\n}' },
      { title: 'C', query: '# not json {\nquery C { c }', variables: null },
    ]);
  });
});
