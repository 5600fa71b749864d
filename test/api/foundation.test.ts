import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

describe('foundation slice over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers planTypes with a token holding any plan role', async () => {
    const token = await server.token('t1', ['plan-viewer']);
    const res = await server.gql('{ planTypes { planType allowedStepActionTypes defaultSequence objectiveTemplate expiresAtDaysFromCreation } }', {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      planTypes: [
        {
          planType: 'RENEWAL_DEFENSE',
          allowedStepActionTypes: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
          defaultSequence: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
          objectiveTemplate: expect.stringContaining('{account_id}'),
          expiresAtDaysFromCreation: 30,
        },
      ],
    });
  });

  it('answers planTypeConfig for a known type', async () => {
    const token = await server.token('t1', ['plan-proposer']);
    const res = await server.gql<{ planTypeConfig: { planType: string } | null }>('{ planTypeConfig(planType: RENEWAL_DEFENSE) { planType } }', {}, token);
    expect(res.data?.planTypeConfig?.planType).toBe('RENEWAL_DEFENSE');
  });

  it('refuses without a token (UNAUTHENTICATED) and with no plan role (FORBIDDEN)', async () => {
    const anonymous = await server.gql('{ planTypes { planType } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.data).toBeNull();
    const noRole = await server.gql('{ planTypes { planType } }', {}, await server.token('t1', ['something-else']));
    expect(noRole.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rejects a malformed Authorization header and a forged token', async () => {
    const malformed = await server.gql('{ planTypes { planType } }', {}, null, { headers: { authorization: 'Basic abc' } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const forged = await server.gql('{ planTypes { planType } }', {}, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
    expect(forged.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reports health 200 while the store answers', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('graphql_requests_total');
  });
});
