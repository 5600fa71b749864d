import zlib from 'node:zlib';

// Errors raised before a request reaches GraphQL (Express's JSON body parser), answered in
// GraphQL's error shape with a client code instead of Express's HTML error page.

export interface TransportErrorAnswer {
  status: number;
  code: 'BAD_USER_INPUT' | 'BAD_REQUEST' | 'INTERNAL_SERVER_ERROR';
  message: string;
}

/** The Content-Encodings the body parser inflates. */
export const SUPPORTED_ENCODINGS: readonly string[] = ['identity', 'gzip', 'deflate', 'br', ...('createZstdDecompress' in zlib ? ['zstd'] : [])];

/**
 * What to answer for an error the body parser (body-parser / raw-body) raised, by its `type`:
 * a client mistake gets its 4xx status and a code (BAD_USER_INPUT for a body that is not the
 * JSON we take, BAD_REQUEST for a request this endpoint does not take: encoding, charset);
 * anything else (a 5xx) is INTERNAL_SERVER_ERROR.
 */
export function transportErrorAnswer(err: unknown, maxBodyBytes: number): TransportErrorAnswer {
  const e = (err ?? {}) as { type?: unknown; status?: unknown; code?: unknown; encoding?: unknown; charset?: unknown };
  const status = typeof e.status === 'number' ? e.status : 500;
  switch (e.type) {
    case 'entity.too.large':
      return { status: 413, code: 'BAD_USER_INPUT', message: `request body exceeds ${maxBodyBytes} bytes` };
    case 'entity.parse.failed':
      return { status: 400, code: 'BAD_USER_INPUT', message: 'request body is not valid JSON' };
    case 'encoding.unsupported':
      return { status: 415, code: 'BAD_REQUEST', message: `Content-Encoding ${quoted(e.encoding)}is not supported; use one of ${SUPPORTED_ENCODINGS.join(', ')}` };
    case 'charset.unsupported':
      return { status: 415, code: 'BAD_REQUEST', message: `charset ${quoted(e.charset)}is not supported; send UTF-8 JSON` };
    case 'request.size.invalid':
      return { status: 400, code: 'BAD_REQUEST', message: 'request body length does not match Content-Length' };
    case 'request.aborted':
      return { status: 400, code: 'BAD_REQUEST', message: 'request body was cut off' };
  }
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return { status: 400, code: 'BAD_REQUEST', message: 'request body could not be decompressed as its Content-Encoding says' };
  }
  if (status >= 400 && status < 500) return { status, code: 'BAD_REQUEST', message: 'request body could not be read' };
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
}

/** A short, safe rendering of a client-sent token (letters, digits, - and _ only), or nothing. */
function quoted(value: unknown): string {
  return typeof value === 'string' && /^[\w-]{1,32}$/.test(value) ? `"${value}" ` : '';
}
