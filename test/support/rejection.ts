import { expect } from '@jest/globals';

/** The error a call rejects with, of the given class; the test fails when it resolves or rejects with anything else. */
export async function rejectionOf<E extends Error>(type: abstract new (...args: never[]) => E, promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as E;
  }
  throw new Error(`expected a rejection with ${type.name}`);
}
