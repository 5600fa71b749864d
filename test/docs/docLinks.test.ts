import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Every relative link in README.md and docs/*.md names a file that exists and, for a Markdown
// file, a heading it has (GitHub's anchor rule), so docs moved or renamed by one change do not
// leave another pointing at nothing.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

const withoutCode = (markdown: string): string => markdown.replace(/```[\s\S]*?```/g, '');

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of withoutCode(readFileSync(file, 'utf8')).matchAll(/^#{1,6} (.*)$/gm)) {
    const base = headingAnchor(heading!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The broken relative links of one Markdown file, as "file: target (why)". */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const [, target] of withoutCode(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^(https?|mailto):/.test(target!)) continue;
    const [path, anchor] = target!.split('#', 2) as [string, string | undefined];
    const linked = path ? resolve(dirname(file), path) : file;
    const where = `${relative(ROOT, file)}: ${target}`;
    if (!existsSync(linked)) broken.push(`${where} (no such file)`);
    else if (anchor && !linked.endsWith('.md')) broken.push(`${where} (anchor on a file that is not Markdown)`);
    else if (anchor && !anchorsOf(linked).has(anchor)) broken.push(`${where} (no such heading)`);
  }
  return broken;
}

const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];

describe('documentation links', () => {
  it('follows GitHub heading anchors', () => {
    expect(headingAnchor("The embedded store's patch set")).toBe('the-embedded-stores-patch-set');
    expect(headingAnchor('Quality harness (`npm run eval`)')).toBe('quality-harness-npm-run-eval');
    expect(headingAnchor('A new plan: the `PLAN_CREATED` entry first')).toBe('a-new-plan-the-plan_created-entry-first');
  });

  it('resolves every relative link and anchor in README.md and docs/*.md', () => {
    expect(DOCS.flatMap(brokenLinks)).toEqual([]);
  });
});
