import { describe, expect, it } from 'vitest';
import { KeySet } from '../../src/load/key-set.ts';

describe('KeySet: whether any key hash occurs twice', () => {
  it('holds 100,000 distinct 53-bit hashes (growing from 4,096 slots) and says no key repeats', () => {
    const keys = new KeySet();
    const hashes = Float64Array.from({ length: 100_000 }, (_, i) => i * 2 ** 33 + ((i * 2654435761) >>> 0));
    keys.addAll(hashes.subarray(0, 50_000));
    keys.addAll(hashes.subarray(50_000));
    expect(keys.maybeRepeated).toBe(false);
  });

  it('finds a repeat in a later batch, after the table grew, and in hashes that differ only above 32 bits', () => {
    const keys = new KeySet();
    keys.addAll(Float64Array.from({ length: 10_000 }, (_, i) => i + 1));
    // Same low 32 bits, other high bits: distinct keys, same slot to start from.
    keys.addAll(Float64Array.from([2 ** 40 + 5, 2 ** 41 + 5]));
    expect(keys.maybeRepeated).toBe(false);
    keys.addAll(Float64Array.from([123_456_789, 2 ** 41 + 5]));
    expect(keys.maybeRepeated).toBe(true);
  });

  it('takes a hash of 0 (the free slot mark) once, and finds it again', () => {
    const keys = new KeySet();
    keys.addAll(Float64Array.from([0, 1, 2]));
    expect(keys.maybeRepeated).toBe(false);
    keys.addAll(Float64Array.from([0]));
    expect(keys.maybeRepeated).toBe(true);
  });

  it('repeated(): rows whose keys it never saw make the answer "maybe"', () => {
    const keys = new KeySet();
    keys.addAll(Float64Array.from([1, 2, 3]));
    keys.repeated();
    expect(keys.maybeRepeated).toBe(true);
  });
});
