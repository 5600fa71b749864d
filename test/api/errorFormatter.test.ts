import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { createErrorFormatter, withoutSuggestions } from '../../src/graphql/formatError.js';

// The formatter on its own, for what the server tests cannot provoke on purpose: an
// unexpected error keeps its stack trace in development only, and is logged at error level.

function formatterWithLog(exposeInternals: boolean) {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { format: createErrorFormatter({ exposeInternals, logger }), lines };
}

const formatted = (message: string, code: string) => ({ message, extensions: { code, stacktrace: ['Error: x', '    at f (/app/node_modules/x.js:1:1)'] } });

describe('createErrorFormatter', () => {
  it('keeps a stack trace only on INTERNAL_SERVER_ERROR and only in development, logging it as a server error', () => {
    const dev = formatterWithLog(true);
    const internal = dev.format(formatted('boom', 'INTERNAL_SERVER_ERROR'), new Error('boom'));
    expect(internal.extensions?.stacktrace).toBeDefined();
    expect(dev.lines.map((l) => l.level)).toEqual([50]);
    const client = dev.format(formatted('Syntax Error', 'GRAPHQL_PARSE_FAILED'), new GraphQLError('Syntax Error'));
    expect(client.extensions).toEqual({ code: 'GRAPHQL_PARSE_FAILED' });
    expect(dev.lines).toHaveLength(1);

    const prod = formatterWithLog(false);
    expect(prod.format(formatted('driver said: secret', 'INTERNAL_SERVER_ERROR'), new Error('driver said: secret'))).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(prod.lines.map((l) => l.level)).toEqual([50]);
  });

  it('makes a codeless error Apollo answered with a 4xx a BAD_REQUEST, not a server error', () => {
    const { format, lines } = formatterWithLog(false);
    const error = new GraphQLError('provided sha does not match query', { extensions: { http: { status: 400 } } });
    expect(format({ message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error)).toEqual({ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } });
    // A codeless error with a 5xx, or none, stays internal.
    const server = new GraphQLError('x', { extensions: { http: { status: 503 } } });
    expect(format({ message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, server).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(lines.map((l) => l.level)).toEqual([50]);
  });

  it('reports a scalar’s refusal of a literal as BAD_USER_INPUT', () => {
    const { format } = formatterWithLog(false);
    const cause = new GraphQLError('DateTime is not a real date', { extensions: { code: 'BAD_USER_INPUT' } });
    const validation = new GraphQLError(cause.message, { originalError: cause, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(format({ message: cause.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, validation).extensions?.code).toBe('BAD_USER_INPUT');
    const plain = new GraphQLError('Unknown field', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(format({ message: 'Unknown field', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }, plain).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('withoutSuggestions', () => {
  it.each([
    ['Cannot query field "planType" on type "Query". Did you mean "planTypes", "plan", or "plans"?', 'Cannot query field "planType" on type "Query".'],
    ['Value "ACTIV" does not exist in "PlanStatus" enum. Did you mean the enum value "ACTIVE"?', 'Value "ACTIV" does not exist in "PlanStatus" enum.'],
    ['Unknown argument "frist" on field "Query.plans". Did you mean "first"?', 'Unknown argument "frist" on field "Query.plans".'],
    ['Syntax Error: Expected Name, found <EOF>.', 'Syntax Error: Expected Name, found <EOF>.'],
  ])('%s', (message, expected) => {
    expect(withoutSuggestions(message)).toBe(expected);
  });
});
