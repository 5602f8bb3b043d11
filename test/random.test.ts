/**
 * The random streams behind keel's seeded ops: Philox4x32-10 against Random123's known answers
 * (tests/kat_vectors), and the dropout mask spec built on it — any range of elements computed on
 * its own equals the same range of the whole mask, and the fraction dropped is p.
 */
import { describe, expect, it } from 'vitest';
import { fillDropoutMask, philox4x32, Rng } from '../src/util/random.js';

const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0'));

describe('Philox4x32-10', () => {
  it("gives Random123's known answers", () => {
    const out = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, out);
    expect(hex(out)).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    const f = 0xffffffff;
    philox4x32(f, f, f, f, f, f, out);
    expect(hex(out)).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
    expect(hex(out)).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
});

describe('the dropout mask spec', () => {
  it('element i is word ⌊i/4⌋ mod 4 of counter 4⌊i/16⌋ + i mod 4', () => {
    const n = 37;
    const mask = new Float32Array(n);
    fillDropoutMask(11, 22, mask, 0.5, 1, 0);
    const words = new Uint32Array(4);
    for (let i = 0; i < n; i++) {
      philox4x32(4 * Math.floor(i / 16) + (i % 4), 0, 0, 0, 11, 22, words);
      expect(mask[i], `element ${i}`).toBe(words[Math.floor(i / 4) % 4] < 0.5 * 2 ** 32 ? 0 : 1);
    }
  });

  it('drops a fraction p, keeps the rest at the keep value; p = 0 keeps all, p = 1 drops all', () => {
    const g = new Rng(5);
    const n = 100_000;
    for (const p of [0, 0.1, 0.5, 0.9, 1]) {
      const m = new Float32Array(n);
      g.fillMask(m, p, 2, 0);
      const dropped = m.filter((v) => v === 0).length;
      expect(m.every((v) => v === 0 || v === 2)).toBe(true);
      // Binomial: 5 standard deviations.
      expect(Math.abs(dropped / n - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('the same seed gives the same mask, another seed another one', () => {
    const a = new Float32Array(1000);
    const b = new Float32Array(1000);
    const c = new Float32Array(1000);
    new Rng(1).fillMask(a, 0.5, 1, 0);
    new Rng(1).fillMask(b, 0.5, 1, 0);
    new Rng(2).fillMask(c, 0.5, 1, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});
