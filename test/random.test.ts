/**
 * The random streams behind keel's seeded ops: Philox4x32-10 against Random123's known answers
 * (tests/kat_vectors), and the dropout mask spec built on it — any range of elements computed on
 * its own equals the same range of the whole mask, and the fraction dropped is p.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { dropThreshold, fillDropoutMask, philox4x32, Rng } from '../src/util/random.js';

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
  it('element i is the 16-bit half i mod 2 of word j = ⌊i/2⌋: word ⌊j/4⌋ mod 4 of counter 4⌊j/16⌋ + j mod 4', () => {
    const n = 77; // two blocks of 32 and a tail
    const words = new Uint32Array(4);
    // 0.3·2¹⁶ = 19660.8: a half of 19660 is dropped, 19661 kept.
    for (const p of [0.5, 0.3]) {
      const mask = new Float32Array(n);
      fillDropoutMask(11, 22, mask, p, 1, 0);
      for (let i = 0; i < n; i++) {
        const j = Math.floor(i / 2);
        philox4x32(4 * Math.floor(j / 16) + (j % 4), 0, 0, 0, 11, 22, words);
        const word = words[Math.floor(j / 4) % 4];
        const half = i % 2 === 0 ? word & 0xffff : word >>> 16;
        expect(mask[i], `element ${i}, p ${p}`).toBe(half < p * 2 ** 16 ? 0 : 1);
      }
    }
    expect(dropThreshold(0.3)).toEqual([19661, 0]);
    expect(dropThreshold(0.5)).toEqual([32768, 0]);
    expect(dropThreshold(1 - 2 ** -17)).toEqual([0, 1]);
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

describe('backend random draws (sampleUniform, sampleNormal)', () => {
  it('follow the spec: the Philox words of the dropout layout as (w + ½)/2³², Box–Muller pairs', () => {
    const g = new Rng(3);
    const key = new Rng(3);
    const k0 = key.nextUint32();
    const k1 = key.nextUint32();
    const u = k.sampleUniform([37], { generator: g }).readSync();
    const words = new Uint32Array(4);
    for (let i = 0; i < 37; i++) {
      philox4x32(4 * Math.floor(i / 16) + (i % 4), 0, 0, 0, k0, k1, words);
      expect(u[i]).toBe(Math.fround((words[Math.floor(i / 4) % 4] + 0.5) / 2 ** 32));
    }
    const n = k.sampleNormal([5], { generator: new Rng(3), dtype: 'float64' }).readSync();
    const w = (i: number) => {
      philox4x32(4 * Math.floor(i / 16) + (i % 4), 0, 0, 0, k0, k1, words);
      return (words[Math.floor(i / 4) % 4] + 0.5) / 2 ** 32;
    };
    const r = Math.sqrt(-2 * Math.log(w(0)));
    expect(n[0]).toBe(r * Math.cos(2 * Math.PI * w(1)));
    expect(n[1]).toBe(r * Math.sin(2 * Math.PI * w(1)));
    const r4 = Math.sqrt(-2 * Math.log(w(4)));
    expect(n[4]).toBe(r4 * Math.cos(2 * Math.PI * w(5)));
  });

  it('have the right moments; the generator advances by two words per draw', () => {
    const g = new Rng(8);
    const x = k.sampleNormal([200_000], { generator: g, mean: 2, std: 3, dtype: 'float64' }).readSync();
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    const sd = Math.sqrt(s2 / x.length - mean * mean);
    expect(Math.abs(mean - 2)).toBeLessThan(0.03);
    expect(Math.abs(sd - 3)).toBeLessThan(0.03);
    const u = k.sampleUniform([100_000], { generator: g, low: -1, high: 3 }).readSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(Math.abs(Array.from(u).reduce((a, b) => a + b, 0) / u.length - 1)).toBeLessThan(0.02);
    const a = new Rng(1);
    const b = new Rng(1);
    k.sampleUniform([10], { generator: a });
    b.nextUint32();
    b.nextUint32();
    expect(a.getState()).toEqual(b.getState());
    expect(() => k.sampleNormal([2], { std: -1 })).toThrow(
      'sampleNormal: needs a finite mean and std ≥ 0, got mean=0, std=-1',
    );
  });

  it('inside a compiled step draw anew at every call, as eager calls do', () => {
    const run = (compiled: boolean) => {
      const g = new Rng(4);
      const body = (x: k.Tensor) => k.add(x, k.sampleNormal(x.shape, { generator: g, std: 0.5 }));
      const f = compiled ? k.compile(body) : body;
      const x = k.zeros([3, 5]);
      return [0, 1, 2].map(() => Array.from(f(x).readSync()));
    };
    const eager = run(false);
    const plan = run(true);
    expect(plan).toEqual(eager);
    expect(plan[1]).not.toEqual(plan[0]);
  });
});
