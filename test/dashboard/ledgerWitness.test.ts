import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse, validate } from 'graphql';
import { loadTypeDefs } from '../../src/graphql/loadSchema.js';

// The witness is a browser module (it runs in test/browser/dashboard.browser.ts); here only its
// operation documents are checked against the service's schema.
describe('dashboard ledger witness against the service contract', () => {
  it('sends only operations that validate against schema/*.graphql', async () => {
    (globalThis as { localStorage?: unknown }).localStorage ??= undefined;
    const { WITNESS_OPERATIONS } = await import('../../dashboard/src/ledgerWitness.js');
    const schema = buildSchema(loadTypeDefs());
    expect(WITNESS_OPERATIONS.length).toBe(3);
    for (const source of WITNESS_OPERATIONS) expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
  });
});
