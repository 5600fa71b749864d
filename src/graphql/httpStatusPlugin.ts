import type { ApolloServerPlugin } from '@apollo/server';
import Negotiator from 'negotiator';

// The GraphQL-over-HTTP specification ties a response's status to its media type:
// - application/json (the legacy type, and the default when Accept is absent): a well-formed
//   request SHOULD be answered 200 whatever GraphQL error it raised (parse, validation,
//   variable coercion, unknown operation name), since a client of that type reads errors from
//   the body only;
// - application/graphql-response+json: a response without `data` (nothing was executed) MUST
//   be 4xx/5xx, and one with `data` 2xx.
// Apollo Server answers GraphQL request errors 400 under both types, and a persisted query it
// does not know 200 under both; this plugin settles both cases by the type the response goes
// out as. Requests that are not well-formed (no query, batching, a GET mutation, a media type it
// does not read, ...) keep their 4xx: Apollo refuses them before any plugin runs or with
// BAD_REQUEST / 405.

export const MEDIA_TYPES = {
  json: 'application/json; charset=utf-8',
  graphqlResponseJson: 'application/graphql-response+json; charset=utf-8',
  /** Apollo's subscription-callback variant of JSON; a single result answers it like JSON. */
  jsonCallback: 'application/json; callbackSpec=1.0; charset=utf-8',
} as const;

/** GraphQL request errors: the request was well-formed, the document or its values were not. */
const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE']);

/** The media type a single result is sent as for this Accept header, as Apollo chooses it; null: 406. */
export function responseMediaType(accept: string | undefined): string | null {
  if (!accept) return MEDIA_TYPES.json;
  return new Negotiator({ headers: { accept } }).mediaType([MEDIA_TYPES.json, MEDIA_TYPES.graphqlResponseJson, MEDIA_TYPES.jsonCallback]) ?? null;
}

export function httpStatusPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          if (response.body.kind !== 'single' || !request.http) return;
          const mediaType = response.http.headers.get('content-type') ?? responseMediaType(request.http.headers.get('accept'));
          if (!mediaType) return; // Apollo answers 406 Not Acceptable
          // Pinned, so the type decided on here is the one Apollo sends.
          response.http.headers.set('content-type', mediaType);
          const result = response.body.singleResult;
          const executed = result.data !== undefined;
          const status = response.http.status ?? 200;
          if (mediaType === MEDIA_TYPES.graphqlResponseJson) {
            if (!executed && status < 400) response.http.status = 400;
          } else if (status === 400 && !executed && (result.errors ?? []).every((e) => REQUEST_ERROR_CODES.has(String(e.extensions?.code)))) {
            response.http.status = 200;
          }
        },
      };
    },
  };
}
