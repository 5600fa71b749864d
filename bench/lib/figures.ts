import type { LoadResult } from './loadJob.js';
import type { Verdict } from './report.js';
import { ms, rate, ratio } from './stats.js';

// How the table turns load results into cells and verdicts; pure functions.

/** "412/s · p50 3.1 ms · p99 9.8 ms", or what went wrong. */
export function fmtRun(r: LoadResult | null, withRate = true): string {
  if (!r) return 'n/a';
  if (r.requests === 0) return r.timeouts > 0 ? `no answer within ${ms(r.timeoutMs)} (${r.timeouts} timeout${r.timeouts > 1 ? 's' : ''})` : `no answer (${r.errors} errors)`;
  const errs = r.errors ? ` · ${r.errors} err${r.timeouts ? ` (${r.timeouts} timeouts)` : ''}` : '';
  return `${withRate ? `${rate(r.throughput)} · ` : ''}p50 ${ms(r.latency.p50)} · p99 ${ms(r.latency.p99)}${errs}`;
}

/** "service 2.1 ms + store 6.3 ms" (or "client …" for a raw driver run) of CPU per request. */
export function cpuText(r: LoadResult): string {
  const parts: string[] = [];
  if (r.cpuPerRequest?.server != null) parts.push(`service ${ms(r.cpuPerRequest.server)}`);
  else if (Number.isFinite(r.clientCpuPerRequest)) parts.push(`client ${ms(r.clientCpuPerRequest)}`);
  if (r.cpuPerRequest?.store != null) parts.push(`store ${ms(r.cpuPerRequest.store)}`);
  return parts.join(' + ');
}

/** A latency percentile, or (when every request timed out) the timeout as a lower bound. */
export function latencyOf(r: LoadResult, p: 'p50' | 'p99'): { value: number; lowerBound: boolean } | null {
  if (r.requests > 0) {
    // Timeouts are slower than every answer: past half of the requests, p50 is a lower bound too.
    const bound = r.timeouts > 0 && (p === 'p99' ? r.timeouts / (r.requests + r.errors) > 0.01 : r.timeouts >= r.requests);
    return { value: bound ? Math.max(r.latency[p], r.timeoutMs) : r.latency[p], lowerBound: bound };
  }
  return r.timeouts > 0 ? { value: r.timeoutMs, lowerBound: true } : null;
}

export interface LatencyRatio {
  value: number;
  text: string;
  known: boolean;
}

export function latencyRatio(a: LoadResult, b: LoadResult, p: 'p50' | 'p99'): LatencyRatio {
  const x = latencyOf(a, p);
  const y = latencyOf(b, p);
  if (!x || !y || (x.lowerBound && y.lowerBound)) return { value: Number.NaN, text: 'n/a', known: false };
  const value = x.value / y.value;
  const text = ratio(value);
  if (x.lowerBound) return { value, text: `> ${text}`, known: true };
  if (y.lowerBound) return { value, text: `< ${text}`, known: true };
  return { value, text, known: true };
}

/** pass/miss for "ratio ≤ limit" when a side may be only a bound (a timeout): undecided is incomplete. */
export function boundedVerdict(r: LatencyRatio, limit: number): Verdict {
  if (!r.known) return 'error';
  if (r.text.startsWith('>')) return r.value > limit ? 'miss' : 'incomplete';
  if (r.text.startsWith('<')) return r.value <= limit ? 'pass' : 'incomplete';
  return r.value <= limit ? 'pass' : 'miss';
}

export const verdictOf = (ok: boolean | null, complete = true): Verdict => (ok === null ? 'error' : !complete ? 'incomplete' : ok ? 'pass' : 'miss');

export const mb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
