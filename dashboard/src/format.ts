import { h } from './dom.js';

/** "2026-11-23 10:04 UTC" — UTC, like the ledger's days, so everyone reads the same thing. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "in 29 days", "3 hours ago" (coarse, for expiry). */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      const label = `${n} ${name}${n === 1 ? '' : 's'}`;
      return ms >= 0 ? `in ${label}` : `${label} ago`;
    }
  }
  return ms >= 0 ? 'in under a minute' : 'just now';
}

/** A <time> element showing UTC with the machine-readable value. */
export function timeEl(iso: string | null | undefined): HTMLElement {
  if (!iso) return h('span', {}, '—');
  return h('time', { datetime: iso }, formatTime(iso));
}

export function shortHash(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : '—';
}

/** A status badge; colour is never the only signal (the text is the status). */
export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status.toLowerCase()}` }, status);
}

/** "PREP_RENEWAL_BRIEF" -> "Prep renewal brief" (shown beside the code, never instead of it). */
export function humanize(code: string): string {
  const words = code.toLowerCase().split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** YYYY-MM-DD (UTC) of a Date. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The last `n` UTC days, oldest first, ending today. */
export function lastDays(n: number, now: Date = new Date()): string[] {
  const days: string[] = [];
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = n - 1; i >= 0; i -= 1) days.push(utcDay(new Date(start - i * 86_400_000)));
  return days;
}
