// The dashboard's only way to the service: POST /graphql with JSON and a bearer token.
// Apollo's CSRF prevention accepts the request because it carries content-type: application/json.

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** A failure with a code: the service's `extensions.code`, or NETWORK / TIMEOUT / HTTP_<status> from here. */
export class ApiError extends Error {
  readonly code: string;
  readonly extensions: Record<string, unknown>;

  constructor(code: string, message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.extensions = extensions;
  }
}

const REQUEST_TIMEOUT_MS = 15_000;

/** /graphql, found from the page's own address (the page is served at /dashboard/). */
export function graphqlEndpoint(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="graphql-endpoint"]');
  return new URL(meta?.content || '../graphql', document.baseURI).toString();
}

/** Runs one operation. Resolves with `data`; rejects with ApiError (the first error's code). */
export async function gql<T>(query: string, variables: Record<string, unknown>, token: string | null): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(graphqlEndpoint(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
  } catch (e) {
    if (controller.signal.aborted) throw new ApiError('TIMEOUT', `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw new ApiError('NETWORK', e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
  let body: { data?: T | null; errors?: GraphQLErrorBody[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`HTTP_${response.status}`, `the service answered HTTP ${response.status} without a GraphQL body`);
  }
  const first = body.errors?.[0];
  if (first) {
    const { code, ...rest } = first.extensions ?? {};
    throw new ApiError(typeof code === 'string' ? code : 'UNKNOWN', first.message, rest);
  }
  if (!body.data) throw new ApiError('UNKNOWN', `the service answered HTTP ${response.status} without data`);
  return body.data;
}

const READABLE: Record<string, string> = {
  UNAUTHENTICATED: 'The service did not accept your token (missing, invalid or expired). Paste a new one.',
  FORBIDDEN: 'Your token’s roles do not allow this.',
  BAD_USER_INPUT: 'The service did not accept the input.',
  NOT_FOUND: 'Not found (it may belong to another tenant).',
  INVALID_TRANSITION: 'This action is not allowed from the plan’s current status. Reload the plan and try again.',
  CONFLICT: 'Someone changed this plan at the same moment. Reload and try again.',
  PROPOSAL_REJECTED: 'No allowed step was left after checking the proposal, so no plan was created.',
  LLM_UNAVAILABLE: 'The plan generator (LLM) is unavailable and the rules fallback is switched off.',
  VERIFICATION_PENDING: 'The ledger log is still being verified in the background. Try again in a moment.',
  INTERNAL_SERVER_ERROR: 'The service hit an unexpected error. Try again; if it persists, check the service logs.',
  NETWORK: 'Cannot reach the service. Is it running?',
  TIMEOUT: 'The service did not answer in time.',
  GRAPHQL_VALIDATION_FAILED: 'The dashboard sent a query this service does not understand (is the API up to date?).',
  BAD_REQUEST: 'The service rejected the request.',
};

/** One line for people: code, what it means, and the service's own message. */
export function describeError(e: unknown): { code: string; text: string; detail: string } {
  if (e instanceof ApiError) {
    const readable = READABLE[e.code] ?? (e.code.startsWith('HTTP_') ? `The service answered ${e.code.replace('_', ' ')}.` : 'The request failed.');
    return { code: e.code, text: readable, detail: e.message };
  }
  return { code: 'CLIENT_ERROR', text: 'Something went wrong in the dashboard.', detail: e instanceof Error ? e.message : String(e) };
}

/** Server-down style failures: the request never got a GraphQL answer. */
export function isUnreachable(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 'NETWORK' || e.code === 'TIMEOUT' || /^HTTP_5\d\d$/.test(e.code));
}
