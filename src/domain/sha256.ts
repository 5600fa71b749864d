// SHA-256 (FIPS 180-4) in plain TypeScript, synchronous and dependency-free, for code that must
// run where node:crypto does not (the dashboard's ledger witness in the browser). The service
// hashes with node:crypto; test/domain/sha256.test.ts checks this against it.

const primes = (count: number): number[] => {
  const out: number[] = [];
  for (let n = 2; out.length < count; n++) if (out.every((p) => n % p !== 0)) out.push(n);
  return out;
};
/** The first 32 bits of the fractional part of a root of each prime, as the standard defines its constants. */
const fractionBits = (values: number[], root: (x: number) => number): Uint32Array => Uint32Array.from(values, (p) => ((root(p) % 1) * 2 ** 32) >>> 0);

const K = fractionBits(primes(64), Math.cbrt);
const INITIAL = fractionBits(primes(8), Math.sqrt);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** SHA-256 of the concatenated parts. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((n, p) => n + p.length, 0);
  // The message, 0x80, zeros, and its length in bits (64-bit big-endian): whole 64-byte blocks.
  const block = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  let at = 0;
  for (const p of parts) {
    block.set(p, at);
    at += p.length;
  }
  block[length] = 0x80;
  const view = new DataView(block.buffer);
  view.setUint32(block.length - 8, Math.floor(length / 2 ** 29));
  view.setUint32(block.length - 4, (length * 8) >>> 0);
  const h = Uint32Array.from(INITIAL);
  const w = new Uint32Array(64);
  const get = (a: Uint32Array, i: number): number => a[i] as number;
  for (let offset = 0; offset < block.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + 4 * i);
    for (let i = 16; i < 64; i++) {
      const a = get(w, i - 15);
      const b = get(w, i - 2);
      w[i] = get(w, i - 16) + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + get(w, i - 7) + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10));
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + get(K, i) + get(w, i)) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = get(h, i) + v));
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((v, i) => outView.setUint32(4 * i, v));
  return out;
}
