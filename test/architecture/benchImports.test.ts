import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { findProjectRoot } from '../../src/config/projectRoot.js';

// The bench's modules (docs/benchmarks.md): bench/lib is shared by every case and imports no
// case; each case in bench/cases stands alone (imports bench/lib and src, never another case);
// and no module of bench/ reaches itself again through its imports.

const root = findProjectRoot();
const bench = join(root, 'bench');

function benchFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'results' ? [] : benchFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The bench files a bench file imports (static, dynamic and type-only), as paths relative to bench/. */
function benchImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\1/g)) {
    const target = relative(bench, resolve(dirname(file), (m[2] as string).replace(/\.js$/, '.ts')));
    if (!target.startsWith('..')) out.push(target);
  }
  return out;
}

/** A cycle of the graph (as its nodes, the first repeated at the end), or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const graph = new Map(benchFiles(bench).map((f) => [relative(bench, f), benchImports(f)]));

describe('bench/ imports', () => {
  it('the cycle finder finds a circle and passes a tree', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toBeNull();
  });

  it('has no import circle', () => {
    expect(graph.size).toBeGreaterThan(10);
    expect(graph.get('lib/documents.ts')).toContain('lib/types.ts');
    expect(findCycle(graph)).toBeNull();
  });

  it('bench/lib imports no case, and no case imports another', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        if (from.startsWith('lib/') && to.startsWith('cases/')) wrong.push(`${from} -> ${to}`);
        if (from.startsWith('cases/') && to.startsWith('cases/')) wrong.push(`${from} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
