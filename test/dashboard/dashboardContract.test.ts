import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse, validate } from 'graphql';
import * as dashboard from '../../dashboard/src/queries.js';
import { LEDGER_EVENT_TYPES, PLAN_STATUSES, TERMINAL_PLAN_STATUSES } from '../../src/domain/enums.js';
import { loadTypeDefs } from '../../src/graphql/loadSchema.js';

// The dashboard is a separate browser build with its own operation documents; it bundles the
// domain's vocabularies. These checks keep both in step with the service.
describe('dashboard against the service contract', () => {
  it("uses the domain's vocabularies themselves, not copies", () => {
    expect(dashboard.PLAN_STATUSES).toBe(PLAN_STATUSES);
    expect(dashboard.TERMINAL_STATUSES).toBe(TERMINAL_PLAN_STATUSES);
    expect(dashboard.LEDGER_EVENT_TYPES).toBe(LEDGER_EVENT_TYPES);
  });

  it('sends only operations that validate against schema/*.graphql', () => {
    const schema = buildSchema(loadTypeDefs());
    const documents = [
      ...Object.values(dashboard).filter((v): v is string => typeof v === 'string' && /^\s*(query|mutation)\b/.test(v)),
      ...Object.values(dashboard.TRANSITIONS).map((t) => t.document),
    ];
    expect(documents.length).toBeGreaterThan(10);
    for (const source of documents) expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
  });
});
