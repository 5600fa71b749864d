import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { testStoreUri } from '../support/testDb.js';
import { PROPOSE, SIGNALS, postGql, spawnServiceProcess, tokenFor, type ProposedPlan } from '../support/reliability.js';

/**
 * Shutdown: SIGTERM (and SIGINT) to the service process in production mode drains the
 * requests, closes the driver and exits 0 with its last log lines written (the service's logs
 * are buffered, see observability/logger.ts). Apollo Server installs its own signal handlers
 * outside NODE_ENV=test, which stopped only Apollo and re-raised the signal; this test runs the
 * process the way operators do, so it would see that again.
 */
describe.each(['SIGTERM', 'SIGINT'] as const)('%s in production mode', (signal) => {
  it('drains, writes its last log lines and exits 0 with an acknowledged proposal stored', async () => {
    const dbName = `shutdown_${randomBytes(6).toString('hex')}`;
    // Production also needs the ledger's signing key (docs/ledger.md) and the webhook secrets' key (docs/webhooks.md).
    const service = await spawnServiceProcess({ MONGODB_URI: testStoreUri(), MONGODB_DB: dbName, NODE_ENV: 'production', LEDGER_SIGNING_KEY: generateSigningKey(), WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') });
    const client = new MongoClient(testStoreUri());
    try {
      const token = await tokenFor('shutdown', ['plan-proposer'], 'sam');
      const res = await postGql<{ proposePlan: ProposedPlan }>(service.url, PROPOSE, { input: { accountId: 'acct-1', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, { token });
      expect(res.errors).toBeUndefined();
      service.kill(signal);
      expect(await service.exited).toEqual({ code: 0, signal: null });
      const lines = service.output.join('\n');
      expect(lines).toContain('shutting down: draining requests');
      expect(lines).toContain('stopped cleanly');
      await client.connect();
      expect(await client.db(dbName).collection('plans').countDocuments({ _id: res.data!.proposePlan.plan.planId as never })).toBe(1);
    } finally {
      if (service.running()) service.kill('SIGKILL');
      await client.db(dbName).dropDatabase().catch(() => undefined);
      await client.close();
    }
  });
});
