import { describe, it } from '@jest/globals';

// Tests that need something this machine may lack (a Go toolchain, a store of one kind) are
// skipped with a line saying why, so a skip is never silent.

const said = new Set<string>();
const say = (reason: string) => {
  if (said.has(reason)) return;
  said.add(reason);
  process.stderr.write(`skipped: ${reason}\n`);
};

/** `describe` when `condition` holds; otherwise `describe.skip`, with `reason` on stderr. */
export function describeIf(condition: boolean, reason: string): typeof describe | typeof describe.skip {
  if (!condition) say(reason);
  return condition ? describe : describe.skip;
}

/** `it` when `condition` holds; otherwise `it.skip`, with `reason` on stderr. */
export function itIf(condition: boolean, reason: string): typeof it | typeof it.skip {
  if (!condition) say(reason);
  return condition ? it : it.skip;
}
