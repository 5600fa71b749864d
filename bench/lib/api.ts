// One GraphQL call to a bench server from the orchestrator, for a case's setup (creating
// runs, publishing a playbook, subscribing endpoints) and its polls; measured load goes
// through load jobs (bench/lib/loadJob.ts) instead.

/** Posts `query` to `<url>/graphql` as the bearer of `token`; its data, or an error naming the first GraphQL error. */
export async function callApi<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url.replace(/\/graphql$/, '')}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`API call failed (HTTP ${res.status}): ${body.errors?.[0]?.message ?? 'no data'}`);
  return body.data;
}
