import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { sha256 } from '../../src/domain/sha256.js';

const node = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('the plain SHA-256 (the browser witness hashes with it)', () => {
  it('gives the FIPS 180-4 examples', () => {
    expect(hex(sha256())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it("equals node:crypto's for every length around the block and padding edges, whole or in parts", () => {
    for (let n = 0; n <= 300; n++) {
      const data = randomBytes(n);
      expect([n, hex(sha256(data))]).toEqual([n, node(data)]);
      const cut = Math.floor(n / 3);
      expect(hex(sha256(data.subarray(0, cut), Uint8Array.of(), data.subarray(cut)))).toBe(node(data));
    }
  });

  it('hashes a large message', () => {
    const data = randomBytes(1 << 20);
    expect(hex(sha256(data))).toBe(node(data));
  });
});
