import http from 'node:http';
import { BSON, MongoClient, type Collection, type Document } from 'mongodb';
import { ledgerEntryKey } from '../../src/store/PlanLedger.js';
import { readCreatedPlan, storedCreatedPlan, type CreatedPlanCopy } from '../../src/store/createdPlanCopy.js';
import { freshWrite } from './documents.js';
import type { DriverJob, HttpJob, JobLimits, LoadJob, LoadResult } from './loadJob.js';
import { SampleBuffer, summarize } from './stats.js';

// The load generator process (see loadJob.ts). It receives one job over IPC, runs it, sends
// the result back and exits. It exits too when the orchestrator goes away.

type Operation = (n: number) => Promise<void>;

/**
 * `concurrency` loops, each sending its next request when the previous one answered. Warm-up
 * lasts warmupMs and until every loop has had one answer (so a slow first request cannot eat
 * the measured window); then requests started within durationMs (and up to maxRequests) are
 * measured, and those still in flight at the end are awaited.
 */
async function closedLoop(limits: JobLimits, operation: Operation): Promise<Omit<LoadResult, 'label' | 'concurrency'>> {
  const cpuAtStart = process.cpuUsage();
  const samples = new SampleBuffer();
  const errorSamples: string[] = [];
  let errors = 0;
  let timeouts = 0;
  let warmupRequests = 0;
  let measuredStarted = 0;
  let inFlightMeasured = 0;
  let counter = 0;
  let lastEnd = 0;
  let warmLoops = 0;
  let stop = false;
  const start = performance.now();
  let measureFrom = limits.warmupMs > 0 ? Number.POSITIVE_INFINITY : start;
  const windowOpen = (now: number) => {
    if (measureFrom === Number.POSITIVE_INFINITY && now >= start + limits.warmupMs && warmLoops >= limits.concurrency) measureFrom = now;
    return now >= measureFrom;
  };
  const noteError = (text: string) => {
    if (errorSamples.length < 3) errorSamples.push(text.slice(0, 300));
  };

  const loop = async () => {
    let warmed = false;
    while (!stop) {
      const t0 = performance.now();
      const measured = windowOpen(t0);
      if (measured && (t0 >= measureFrom + limits.durationMs || measuredStarted >= limits.maxRequests)) return;
      if (measured) {
        measuredStarted += 1;
        inFlightMeasured += 1;
      } else warmupRequests += 1;
      let failure: unknown = null;
      try {
        await operation(counter++);
      } catch (e) {
        failure = e;
      }
      if (stop) return;
      const t1 = performance.now();
      if (!warmed) {
        warmed = true;
        warmLoops += 1;
      }
      if (!measured) continue;
      inFlightMeasured -= 1;
      lastEnd = Math.max(lastEnd, t1);
      if (failure === null) samples.push(t1 - t0);
      else {
        errors += 1;
        const text = String(failure instanceof Error ? failure.message : failure);
        if (/timeout|timed out|exceeded time limit/i.test(text)) timeouts += 1;
        noteError(text);
      }
    }
  };
  const all = Promise.all(Array.from({ length: limits.concurrency }, loop)).then(() => false);
  let timer: NodeJS.Timeout | undefined;
  const cutOff = limits.maxWallMs === undefined
    ? await all
    : await Promise.race([all, new Promise<boolean>((r) => (timer = setTimeout(() => r(true), limits.maxWallMs)))]);
  clearTimeout(timer);
  if (cutOff) {
    stop = true;
    const now = performance.now();
    if (measureFrom === Number.POSITIVE_INFINITY) measureFrom = start;
    // Requests still waiting count as errors, as if they had timed out now.
    const waiting = measuredStarted > 0 ? inFlightMeasured : limits.concurrency;
    errors += waiting;
    timeouts += waiting;
    lastEnd = now;
    noteError(`${waiting} request(s) still waiting after ${limits.maxWallMs} ms (the time budget): counted as timeouts`);
  }
  const elapsedMs = Math.max(lastEnd - measureFrom, 1e-6);
  const cpu = process.cpuUsage(cpuAtStart);
  const sent = warmupRequests + measuredStarted;
  return {
    clientCpuPerRequest: sent > 0 ? (cpu.user + cpu.system) / 1000 / sent : Number.NaN,
    timeoutMs: limits.timeoutMs,
    requests: samples.length,
    errors,
    errorSamples,
    warmupRequests,
    elapsedMs,
    throughput: (samples.length / elapsedMs) * 1000,
    latency: summarize(samples.values()),
    cappedByCount: measuredStarted >= limits.maxRequests,
    cutOff,
    timeouts,
  };
}

async function runHttp(job: HttpJob): Promise<LoadResult> {
  const url = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const bodies = job.bodies.map((b) => Buffer.from(b, 'utf8'));
  const post = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const body = bodies[n % bodies.length] as Buffer;
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length, ...job.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            else if (text.includes('"errors":[')) reject(new Error(`GraphQL errors: ${text.slice(0, 250)}`));
            else if (job.expect && !text.includes(job.expect)) reject(new Error(`answer lacks ${job.expect}: ${text.slice(0, 200)}`));
            else resolve();
          });
        },
      );
      req.setTimeout(job.timeoutMs, () => req.destroy(new Error(`timeout after ${job.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  try {
    return { label: job.label, concurrency: job.concurrency, ...(await closedLoop(job, post)) };
  } finally {
    agent.destroy();
  }
}

async function runDriver(job: DriverJob): Promise<LoadResult> {
  // The same pool bound as the service's connection (src/store/mongoConnection.ts).
  const client = new MongoClient(job.uri, { maxPoolSize: 64, retryWrites: false, serverSelectionTimeoutMS: 5000, socketTimeoutMS: job.timeoutMs });
  await client.connect();
  try {
    const db = client.db(job.db);
    const plans: Collection<Document> = db.collection('plans');
    const ledger: Collection<Document> = db.collection('plan_ledger');
    const spec = job.driver;
    // Reads the client gives up on must not go on in the store (FerretDB honours maxTimeMS).
    const maxTimeMS = Math.max(1, Math.floor(job.timeoutMs));
    let operation: Operation;
    switch (spec.op) {
      case 'proposeWrites':
        operation = async (n) => {
          const { plan, entry } = freshWrite(spec.template, spec.tenant, n);
          await plans.insertOne(plan);
          await ledger.insertOne(entry);
        };
        break;
      case 'proposeProtocol':
        operation = async (n) => {
          const { plan, entry } = freshWrite(spec.template, spec.tenant, n);
          const { _id, active_slot: _slot, event_count: _count, proposal, ...fields } = plan;
          // The copy as the service stored it for the template (what the entry's data holds left
          // out, as one text: src/store/createdPlanCopy.ts), for this plan; whole if there is none.
          const stored = readCreatedPlan(spec.template.entry.created_plan) as CreatedPlanCopy | null | undefined;
          const copy: CreatedPlanCopy = stored?.plan ? { ...stored, plan: { ...stored.plan, plan_id: _id, tenant_id: spec.tenant } } : { plan: { plan_id: _id, ...fields }, proposal: proposal ?? null };
          await ledger.insertOne({ ...entry, created_plan: storedCreatedPlan(copy) });
          await plans.insertOne(plan);
        };
        break;
      case 'findPlan':
        operation = async (n) => {
          const doc = await plans.findOne({ _id: spec.ids[n % spec.ids.length] as never, tenant_id: spec.tenant }, { maxTimeMS });
          if (!doc) throw new Error('plan not found');
        };
        break;
      case 'findPlanById':
        operation = async (n) => {
          const doc = await plans.findOne({ _id: spec.ids[n % spec.ids.length] as never });
          if (!doc || doc.tenant_id !== spec.tenant) throw new Error('plan not found');
        };
        break;
      case 'listPlans':
        operation = async () => {
          const docs = await plans.find({ tenant_id: spec.tenant }).sort({ updated_at: -1 }).limit(50).maxTimeMS(maxTimeMS).toArray();
          if (docs.length === 0) throw new Error('no plans');
        };
        break;
      case 'ledgerPage':
        operation = async () => {
          const docs = await ledger.find({ tenant_id: spec.tenant, plan_id: spec.planId }).sort({ seq: 1 }).limit(50).maxTimeMS(maxTimeMS).toArray();
          if (docs.length === 0) throw new Error('no ledger entries');
        };
        break;
      case 'read': {
        const reads = spec.reads.map((r) => ({
          sort: r.sort,
          limit: r.limit,
          collection: db.collection(r.collection),
          filter: r.find === undefined ? null : (BSON.EJSON.parse(r.find) as Document),
          pipeline: r.aggregate === undefined ? null : (BSON.EJSON.parse(r.aggregate) as Document[]),
        }));
        operation = async (n) => {
          const r = reads[n % reads.length]!;
          const docs = r.pipeline
            ? await r.collection.aggregate(r.pipeline, { maxTimeMS }).toArray()
            : await r.collection.find(r.filter ?? {}, { ...(r.sort ? { sort: r.sort } : {}), ...(r.limit ? { limit: r.limit } : {}), maxTimeMS }).toArray();
          if (docs.length === 0) throw new Error('no documents');
        };
        break;
      }
      case 'ledgerPointReads': {
        const keys = Array.from({ length: spec.count }, (_, i) => ledgerEntryKey(spec.tenant, spec.planId, i + 1));
        operation = async () => {
          const docs = await Promise.all(keys.map((_id) => ledger.findOne({ _id: _id as never })));
          if (!docs[0]) throw new Error('no ledger entries');
        };
        break;
      }
    }
    return { label: job.label, concurrency: job.concurrency, ...(await closedLoop(job, operation)) };
  } finally {
    await client.close().catch(() => undefined);
  }
}

if (process.send) {
  process.on('disconnect', () => process.exit(1));
  process.once('message', (job: LoadJob) => {
    const run = job.kind === 'http' ? runHttp(job) : runDriver(job);
    run.then(
      (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
      (e: unknown) => process.send?.({ ok: false, error: String(e instanceof Error ? (e.stack ?? e.message) : e) }, () => process.exit(1)),
    );
  });
}
