// npm run propose:run -- accounts.jsonl [--dry-run] [--json] [--url URL] [--token TOKEN] [--format jsonl|csv]
// Proposes for every account of a file through a proposal run of the service (docs/runs.md):
// creates the run, uploads the items in chunks of 500, starts it and follows it until it ends,
// with a progress bar on a terminal and plain lines otherwise; --json prints the finished run
// as one JSON object and nothing else. The file is JSON lines (one ProposePlanInput per line)
// or CSV with a header naming the input's fields (JSON-valued ones as JSON text).
// URL: --url or RENEWAL_DEFENSE_URL (default http://127.0.0.1:4000); token: --token or
// RENEWAL_DEFENSE_TOKEN (a plan-proposer's bearer token, e.g. from `npm run token`).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseCsv } from 'csv-parse';
import cliProgress from 'cli-progress';
import { MAX_RUN_ITEMS_PER_CALL } from '../domain/proposalRuns.js';

const RUN_FIELDS = 'runId status dryRun startedAt finishedAt counts { total pending created wouldCreate skippedOpenPlan skippedDuplicate rejected failed }';

interface RunView {
  runId: string;
  status: string;
  dryRun: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  counts: Record<'total' | 'pending' | 'created' | 'wouldCreate' | 'skippedOpenPlan' | 'skippedDuplicate' | 'rejected' | 'failed', number>;
}

/** Columns of a CSV file whose cells are JSON text. */
const JSON_COLUMNS = new Set(['posture', 'signals', 'history', 'tenantGoals']);

class UsageError extends Error {}

async function* jsonLines(path: string): AsyncGenerator<Record<string, unknown>> {
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UsageError(`${path}:${line}: not JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${path}:${line}: not a JSON object`);
    yield value as Record<string, unknown>;
  }
}

async function* csvRows(path: string): AsyncGenerator<Record<string, unknown>> {
  const parser = createReadStream(path).pipe(parseCsv({ columns: true, skip_empty_lines: true, trim: true }));
  let row = 1;
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    row += 1;
    const item: Record<string, unknown> = {};
    for (const [column, cell] of Object.entries(record)) {
      if (cell === '') continue;
      if (!JSON_COLUMNS.has(column)) {
        item[column] = cell;
        continue;
      }
      try {
        item[column] = JSON.parse(cell);
      } catch {
        throw new UsageError(`${path}: row ${row}, column ${column}: not JSON`);
      }
    }
    yield item;
  }
}

async function* chunks<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

function client(url: string, token: string) {
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await fetch(`${url.replace(/\/+$/, '')}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json().catch(() => ({}))) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length) {
      const e = body.errors[0]!;
      throw new Error(`${e.extensions?.code ?? `HTTP ${res.status}`}: ${e.message}`);
    }
    if (!body.data) throw new Error(`HTTP ${res.status}: no data`);
    return body.data;
  };
}

const summary = (c: RunView['counts']): string =>
  `created ${c.created}, would create ${c.wouldCreate}, open plan ${c.skippedOpenPlan}, duplicate ${c.skippedDuplicate}, rejected ${c.rejected}, failed ${c.failed}`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      format: { type: 'string' },
      'poll-ms': { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('usage: propose:run -- <accounts.jsonl|accounts.csv> [--dry-run] [--json] [--url URL] [--token TOKEN] [--format jsonl|csv]');
  const url = values.url ?? process.env.RENEWAL_DEFENSE_URL ?? 'http://127.0.0.1:4000';
  const token = values.token ?? process.env.RENEWAL_DEFENSE_TOKEN;
  if (!token) throw new UsageError('a token is needed: --token or RENEWAL_DEFENSE_TOKEN (a plan-proposer token; npm run token prints one)');
  const format = values.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError('--format is jsonl or csv');
  const pollMs = Number(values['poll-ms'] ?? 1000);
  const gql = client(url, token);
  const say = values.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);

  const { createProposalRun: created } = await gql<{ createProposalRun: RunView }>(`mutation($d: Boolean!) { createProposalRun(dryRun: $d) { ${RUN_FIELDS} } }`, {
    d: values['dry-run'],
  });
  const runId = created.runId;
  say(`run ${runId}${created.dryRun ? ' (dry run)' : ''}: uploading ${file}`);
  let uploaded = 0;
  try {
    for await (const chunk of chunks(format === 'csv' ? csvRows(file) : jsonLines(file), MAX_RUN_ITEMS_PER_CALL)) {
      await gql(`mutation($r: ID!, $items: [ProposePlanInput!]!) { addProposalRunItems(runId: $r, items: $items) { runId } }`, { r: runId, items: chunk }).catch((e: Error) => {
        // The server names the item by its index in the chunk: say where it is in the file.
        throw new Error(e.message.replace(/items\[(\d+)\]/g, (_m, i: string) => `item ${uploaded + Number(i) + 1} of the file`));
      });
      uploaded += chunk.length;
    }
  } catch (e) {
    await gql(`mutation($r: ID!) { cancelProposalRun(runId: $r) { runId } }`, { r: runId }).catch(() => undefined);
    throw e;
  }
  await gql(`mutation($r: ID!) { startProposalRun(runId: $r) { runId } }`, { r: runId });
  say(`run ${runId}: ${uploaded} items uploaded, started`);

  const bar = !values.json && process.stdout.isTTY ? new cliProgress.SingleBar({ format: '{bar} {value}/{total} | {summary}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(uploaded, 0, { summary: '' });
  let lastLine = '';
  let run: RunView;
  for (;;) {
    run = (await gql<{ proposalRun: RunView }>(`query($r: ID!) { proposalRun(runId: $r) { ${RUN_FIELDS} } }`, { r: runId })).proposalRun;
    const done = run.counts.total - run.counts.pending;
    if (bar) bar.update(done, { summary: summary(run.counts) });
    else {
      const line = `${run.status} ${done}/${run.counts.total}: ${summary(run.counts)}`;
      if (line !== lastLine) say(line);
      lastLine = line;
    }
    if (run.status === 'COMPLETED' || run.status === 'CANCELLED') break;
    await sleep(pollMs);
  }
  bar?.stop();
  if (values.json) process.stdout.write(`${JSON.stringify(run)}\n`);
  else say(`run ${runId} ${run.status}: ${summary(run.counts)}`);
  return run.status === 'COMPLETED' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
