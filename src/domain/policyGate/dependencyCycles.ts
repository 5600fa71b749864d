/**
 * Dependency cycles of a directed graph, one per tangle (a strongly connected component of two
 * or more nodes): the shortest cycle through the tangle's earliest node, as [a, b, ..., a].
 * One example per tangle keeps the report short while still naming every independent blocker.
 * Self-loops and edges to unknown nodes are ignored (the gate reports those separately).
 * Deterministic: it follows the order of `nodes` and of each node's edges. Iterative, so a long
 * dependency chain cannot overflow the stack.
 */
export function findDependencyCycles(
  nodes: readonly string[],
  edgesOf: (node: string) => readonly string[],
): string[][] {
  const known = new Set(nodes);
  const successors = new Map(
    [...known].map((node) => [node, [...new Set(edgesOf(node))].filter((t) => t !== node && known.has(t))]),
  );
  const next = (node: string): readonly string[] => successors.get(node)!;
  const position = new Map([...known].map((node, i) => [node, i]));

  return stronglyConnectedComponents([...known], next)
    .filter((component) => component.length > 1)
    .map((component) => component.sort((a, b) => position.get(a)! - position.get(b)!))
    .sort((a, b) => position.get(a[0]!)! - position.get(b[0]!)!)
    .map((component) => shortestCycleThrough(component[0]!, new Set(component), next));
}

/** Tarjan's algorithm with an explicit stack of frames instead of recursion. */
function stronglyConnectedComponents(nodes: readonly string[], next: (node: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const open: string[] = [];
  const onOpen = new Set<string>();
  const components: string[][] = [];

  const enter = (node: string): { node: string; edge: number } => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    open.push(node);
    onOpen.add(node);
    return { node, edge: 0 };
  };

  for (const root of nodes) {
    if (index.has(root)) continue;
    const frames = [enter(root)];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const target = next(frame.node)[frame.edge++];
      if (target !== undefined) {
        if (!index.has(target)) frames.push(enter(target));
        else if (onOpen.has(target)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = open.splice(open.lastIndexOf(frame.node));
        for (const node of component) onOpen.delete(node);
        components.push(component);
      }
    }
  }
  return components;
}

/** Breadth-first from start inside its tangle; the first edge back to start closes a shortest cycle. */
function shortestCycleThrough(start: string, tangle: ReadonlySet<string>, next: (node: string) => readonly string[]): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  // A tangle is strongly connected, so an edge back to start is always found before the queue ends.
  for (let head = 0; ; head++) {
    const node = queue[head]!;
    for (const target of next(node)) {
      if (target === start) return [...pathFromStart(node, start, parent), start];
      if (tangle.has(target) && !parent.has(target)) {
        parent.set(target, node);
        queue.push(target);
      }
    }
  }
}

function pathFromStart(node: string, start: string, parent: ReadonlyMap<string, string>): string[] {
  const path = [node];
  while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
  return path;
}
