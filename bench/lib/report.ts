import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type Verdict = 'pass' | 'miss' | 'incomplete' | 'skipped' | 'error' | '';

/** One line of the table. Cells are display text; `figures` keeps the numbers for JSON. */
export interface Row {
  id: string;
  what: string;
  load: string;
  service: string;
  baseline: string;
  ratio: string;
  goal: string;
  verdict: Verdict;
  figures?: Record<string, unknown>;
}

export interface ReportHeader {
  title: string;
  lines: string[];
}

const COLUMNS: { key: keyof Row; title: string }[] = [
  { key: 'id', title: '#' },
  { key: 'what', title: 'case' },
  { key: 'load', title: 'load / data' },
  { key: 'service', title: 'service' },
  { key: 'baseline', title: 'baseline' },
  { key: 'ratio', title: 'ratio / figure' },
  { key: 'goal', title: 'goal' },
  { key: 'verdict', title: 'result' },
];

const cell = (text: unknown) => String(text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

const verdictText = (v: Verdict) => (v === 'pass' ? '✅ pass' : v === 'miss' ? '❌ miss' : v === 'incomplete' ? '⚠️ incomplete' : v === 'skipped' ? '⏭ skipped' : v === 'error' ? '💥 error' : '');

export function markdownTable(rows: Row[]): string {
  const head = `| ${COLUMNS.map((c) => c.title).join(' | ')} |`;
  const rule = `|${COLUMNS.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${COLUMNS.map((c) => cell(c.key === 'verdict' ? verdictText(r.verdict) : r[c.key])).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

export function markdownReport(header: ReportHeader, rows: Row[], notes: string[]): string {
  return [
    `### ${header.title}`,
    '',
    ...header.lines.map((l) => `- ${l}`),
    '',
    markdownTable(rows),
    '',
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

export function writeResults(dir: string, header: ReportHeader, rows: Row[], notes: string[], details: Record<string, unknown>): { json: string; md: string } {
  const md = markdownReport(header, rows, notes);
  const json = JSON.stringify({ ...details, header, rows, notes }, null, 2);
  const mdPath = resolve(dir, 'latest.md');
  const jsonPath = resolve(dir, 'latest.json');
  writeFileSync(mdPath, md);
  writeFileSync(jsonPath, `${json}\n`);
  return { json: jsonPath, md: mdPath };
}
