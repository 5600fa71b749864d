import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

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

/**
 * Checks that client JSON is plain data a MongoDB document can hold safely: no key starts with
 * '$' or contains '.' or a NUL (operator injection, dotted paths), and nesting is bounded.
 */
export function assertSafeJson(value: unknown, depth = 0, path = '$'): void {
  if (depth > 10) throw badInput(`JSON nested deeper than 10 levels at ${path}`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badInput(`JSON number at ${path} is not finite`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertSafeJson(v, depth + 1, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, v] of Object.entries(value)) {
      if (key.startsWith('$') || key.includes('.') || key.includes('\0') || key.length === 0 || key.length > 128) {
        throw badInput(`JSON key at ${path} is not allowed (empty, over 128 characters, starts with '$', or contains '.' or NUL)`);
      }
      assertSafeJson(v, depth + 1, `${path}.${key}`);
    }
    return;
  }
  throw badInput(`JSON value at ${path} is not plain data`);
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
  description: "Plain JSON. Keys may not start with '$' or contain '.'; at most 10 levels deep.",
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
