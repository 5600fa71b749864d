import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { isAppError } from '../domain/errors.js';
import { toStorableJson } from '../domain/storableJson.js';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * An ISO-8601 date-time whose every part exists: month 01-12, a day the month has (no
 * 2027-02-30, which Date would shift to March 2), hours 00-23, minutes and seconds 00-59, an
 * offset up to ±23:59.
 */
function parseDateTime(value: unknown): Date {
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!match) throw badInput('DateTime must be an ISO-8601 string with a time zone, e.g. 2026-11-23T10:00:00Z');
  const [year, month, day, hour, minute] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  const [second, offsetHours, offsetMinutes] = match.slice(6).map((part) => Number(part ?? 0)) as [number, number, number];
  const real = month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
  const date = new Date(value as string);
  if (!real || Number.isNaN(date.getTime())) throw badInput('DateTime is not a real date and time (no such day, hour, minute or offset)');
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time; always returned in UTC.',
  serialize: (value) => {
    if (value instanceof Date) return value.toISOString();
    throw new GraphQLError('DateTime cannot represent a non-date value');
  },
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badInput('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

/** Client JSON nests at most this deep (the store admits more: whole documents). */
const MAX_CLIENT_JSON_DEPTH = 10;

/**
 * Checks that client JSON is plain data the store keeps exactly and safely, by the one rule
 * for free-form JSON (domain/storableJson.ts), at most MAX_CLIENT_JSON_DEPTH levels deep.
 */
export function assertSafeJson(value: unknown): void {
  try {
    toStorableJson(value, 'JSON', MAX_CLIENT_JSON_DEPTH);
  } catch (e) {
    throw isAppError(e) ? badInput(e.message) : e;
  }
}

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value] ?? null;
    default:
      throw badInput('JSON literal is not plain data');
  }
}

export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  description: "Plain JSON. Keys may not start with '$', contain '.', or be __proto__, constructor or prototype; at most 10 levels deep.",
  serialize: (value) => value,
  parseValue: (value) => {
    assertSafeJson(value);
    return value;
  },
  parseLiteral: (ast, variables) => {
    const value = literalToJson(ast, variables);
    assertSafeJson(value);
    return value;
  },
});
