import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isAppError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * Every error leaves with a code. AppErrors keep their code, message and safe details; errors
 * Apollo or the validation rules raised keep theirs; anything else is INTERNAL_SERVER_ERROR
 * with a generic message (the cause is logged, never sent, outside development).
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
    const code = formatted.extensions?.code;
    if (code === 'BAD_USER_INPUT' && typeof formatted.message === 'string') {
      // graphql-js quotes the rejected value in its message; never reflect client text back.
      formatted = { ...formatted, message: withoutReflectedInput(formatted.message) };
    }
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
      if (options.exposeInternals) return formatted;
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
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
