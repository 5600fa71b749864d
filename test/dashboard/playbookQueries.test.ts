import { describe, expect, it } from '@jest/globals';
import { buildSchema, parse, validate } from 'graphql';
import * as playbook from '../../dashboard/src/playbookQueries.js';
import { loadTypeDefs } from '../../src/graphql/loadSchema.js';

describe("the dashboard's playbook operations", () => {
  it('validate against schema/*.graphql', () => {
    const schema = buildSchema(loadTypeDefs());
    const documents = Object.values(playbook).filter((v): v is string => typeof v === 'string' && /^\s*(query|mutation)\b/.test(v));
    expect(documents).toHaveLength(5);
    for (const source of documents) expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
  });
});
