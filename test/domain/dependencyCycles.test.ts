import { describe, expect, it } from '@jest/globals';
import { findDependencyCycles } from '../../src/domain/policyGate/dependencyCycles.js';

const graph = (edges: Record<string, string[]>) => (node: string): string[] => edges[node] ?? [];

describe('findDependencyCycles', () => {
  it('finds nothing in an acyclic graph, including diamonds and edges to unknown nodes', () => {
    const edges = graph({ a: ['b', 'c', 'zzz'], b: ['d'], c: ['d'], d: [] });
    expect(findDependencyCycles(['a', 'b', 'c', 'd'], edges)).toEqual([]);
    expect(findDependencyCycles([], edges)).toEqual([]);
  });

  it('ignores self-loops', () => {
    expect(findDependencyCycles(['a'], graph({ a: ['a'] }))).toEqual([]);
  });

  it('gives one shortest cycle per tangle, through the tangle’s earliest node', () => {
    const edges = graph({ a: ['b'], b: ['c', 'a'], c: ['a'], x: ['y'], y: ['x'] });
    expect(findDependencyCycles(['x', 'y', 'a', 'b', 'c'], edges)).toEqual([
      ['x', 'y', 'x'],
      ['a', 'b', 'a'],
    ]);
  });

  it('walks the tangle breadth-first, so the named cycle is a shortest one', () => {
    const edges = graph({ a: ['b', 'c'], b: ['d'], d: ['a'], c: ['a'] });
    expect(findDependencyCycles(['a', 'b', 'c', 'd'], edges)).toEqual([['a', 'c', 'a']]);
    const ring = graph({ a: ['b'], b: ['c'], c: ['d'], d: ['b', 'a'] });
    expect(findDependencyCycles(['a', 'b', 'c', 'd'], ring)).toEqual([['a', 'b', 'c', 'd', 'a']]);
  });

  it('treats repeated nodes and repeated edges once', () => {
    expect(findDependencyCycles(['a', 'b', 'a'], graph({ a: ['b', 'b'], b: ['a'] }))).toEqual([['a', 'b', 'a']]);
  });

  it('handles a very long chain without recursion', () => {
    const n = 50_000;
    const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
    const edges = (node: string): string[] => {
      const i = Number(node.slice(1));
      return [`n${(i + 1) % n}`];
    };
    const [cycle, ...rest] = findDependencyCycles(nodes, edges);
    expect(rest).toEqual([]);
    expect(cycle).toHaveLength(n + 1);
  });
});
