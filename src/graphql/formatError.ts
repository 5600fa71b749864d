import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isAppError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * Every error leaves with a code. AppErrors keep their code, message and safe details; errors
 * Apollo or the validation rules raised keep theirs; one Apollo answers with a 4xx status but no
 * code (a persisted query with an unsupported version or a hash that does not match its query)
 * is the client's: BAD_REQUEST; anything else is INTERNAL_SERVER_ERROR with a generic message
 * (the cause is logged, never sent, outside development). Only INTERNAL_SERVER_ERROR carries a
 * stack trace, and only in development; outside it no message suggests names ("Did you mean").
 */
export function createErrorFormatter(options: { exposeInternals: boolean; logger: Logger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isAppError(original)) {
      return {
        message: original.message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { ...(original.details ?? {}), code: original.code },
      };
    }
    let code = formatted.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR' && isCodelessClientError(original)) code = 'BAD_REQUEST';
    // A scalar that refused a literal in the query text (an impossible DateTime, unsafe JSON)
    // is reported by validation; it is the same mistake as in a variable: BAD_USER_INPUT.
    if (code === 'GRAPHQL_VALIDATION_FAILED' && isScalarInputError(original)) code = 'BAD_USER_INPUT';
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
      let message = formatted.message;
      // graphql-js quotes the rejected value in its message; never reflect client text back.
      if (code === 'BAD_USER_INPUT') message = withoutReflectedInput(message);
      if (!options.exposeInternals) message = withoutSuggestions(message);
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, message, extensions: { ...extensions, code } };
    }
    options.logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    if (options.exposeInternals) return { ...formatted, extensions: { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' } };
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** A GraphQLError raised with an HTTP 4xx status and no code (Apollo's persisted-query checks do that). */
function isCodelessClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** A validation error whose cause is a scalar's BAD_USER_INPUT (see scalars.ts). */
function isScalarInputError(error: unknown): boolean {
  const cause = error instanceof GraphQLError ? error.originalError : undefined;
  return cause instanceof GraphQLError && cause.extensions.code === 'BAD_USER_INPUT';
}

/** graphql-js ends a message with ` Did you mean "a", "b", or "c"?` (names, enum values): drop it. */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^]*\?$/, '');
}

/**
 * graphql-js quotes a rejected variable value in its message ("got invalid value <value> at
 * <path>; <reason>"). Drop the value, keep the path, and neutralize markup in the reason, so
 * nothing a client sent is echoed back as something a careless page could execute.
 */
export function withoutReflectedInput(message: string): string {
  const match = /^(.*?) got invalid value .*?((?: at "[\w.[\]]*")?); (.*)$/s.exec(message);
  const text = match ? `${match[1]} got an invalid value${match[2]}; ${match[3]}` : message;
  return text.replace(/[<>&]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[ch] as string);
}
