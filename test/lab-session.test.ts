/**
 * The lab's training session (lab/src/session.ts) in Node: seeded (the same configuration gives the
 * same losses whether stepped one by one or in slices), the loss falls on moons, and each preset of
 * the chapter shows what its text promises — overfitting's test loss climbs while its training loss
 * falls, weight decay keeps ‖w‖ smaller, dropout and input noise narrow the gap, sigmoid + N(0, 1) raises the
 * vanishing-gradient alarm, a deep N(0, 1) ReLU net the exploding one, a constant init keeps the
 * hidden units identical. The URL round-trips the configuration.
 */
import { describe, expect, it } from 'vitest';
import { Session } from '../lab/src/session.js';
import { DEFAULTS, fromQuery, PRESETS, set, toQuery, validate } from '../lab/src/state.js';
import { pixelImageSet } from '../src/data/fashionMnist.js';
import * as k from '../src/index.js';
import { Rng } from '../src/index.js';

const presetConfig = (id: string) => {
  const p = PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(id);
  return p.config;
};
const run = (s: Session, steps: number) => {
  for (let i = 0; i < steps && !s.finished; i++) s.stepOnce();
  return s;
};

describe('lab session', () => {
  it('is seeded: slices of steps or single steps give the same numbers; the loss falls on moons', () => {
    const a = run(new Session(DEFAULTS), 200);
    const b = new Session(DEFAULTS);
    for (let k = 0; k < 20; k++) run(b, 10);
    expect(b.lastLoss).toBe(a.lastLoss);
    expect(b.history).toEqual(a.history);
    expect(a.history.length).toBe(Math.floor(200 / a.info.batchesPerEpoch));
    expect(a.history[a.history.length - 1].testLoss).toBeLessThan(0.6 * a.history[0].testLoss);
    const snap = a.snapshot(16);
    expect(snap.surface?.probs.length).toBe(16 * 16 * 2);
    expect(a.info.memory.training).toBeGreaterThan(0);
    expect(a.info.memory.prediction).toBe(0);
    expect(a.info.dot).toContain('digraph');
  });

  it('presets show what they promise', () => {
    const over = run(new Session(presetConfig('overfitting')), 3 * 300);
    const h = over.history;
    const minTest = Math.min(...h.map((p) => p.testLoss));
    expect(h[h.length - 1].trainLoss).toBeLessThan(0.5 * h[h.length - 1].testLoss);
    expect(h[h.length - 1].testLoss).toBeGreaterThan(1.3 * minTest);
    const wd = run(new Session(presetConfig('weight-decay')), 3 * 300);
    expect(wd.snapshot(4).weights.norm).toBeLessThan(0.7 * over.snapshot(4).weights.norm);
    expect(wd.history[wd.history.length - 1].testLoss).toBeLessThan(h[h.length - 1].testLoss);
    const drop = run(new Session(presetConfig('dropout')), 3 * 300);
    const gap = (s: Session) => {
      const last = s.history[s.history.length - 1];
      return last.testLoss - last.trainLoss;
    };
    expect(gap(drop)).toBeLessThan(gap(over));
    // Fresh input noise at every step: the net cannot memorize single points (test loss 0.6 vs 3.6).
    const noisy = run(new Session(presetConfig('input-noise')), 3 * 300);
    expect(gap(noisy)).toBeLessThan(0.5 * gap(over));
    expect(noisy.history[noisy.history.length - 1].testLoss).toBeLessThan(0.5 * h[h.length - 1].testLoss);
    const van = run(new Session(presetConfig('vanishing')), 30);
    expect(van.alarms.map((a) => a.kind)).toContain('vanishing');
    const exp = run(new Session(presetConfig('exploding')), 30);
    expect(exp.alarms.map((a) => a.kind)).toContain('exploding');
    // It diverges within a few steps, and says where, as keel train does.
    expect(exp.diverged).toBe(true);
    expect(exp.step).toBeLessThan(10);
    expect(exp.divergence?.diagnosis).toMatch(/the loss grew from .* to .*: the updates are too large/);
    const sym = run(new Session(presetConfig('symmetry')), 100);
    // The first layer's rows (one per hidden unit, over the 2 inputs) stay equal; the weights moved.
    const w = Array.from(sym.stateDict()['1.weight'].readSync() as Float32Array);
    const units = new Set(Array.from({ length: 16 }, (_, j) => `${w[2 * j]},${w[2 * j + 1]}`));
    expect(units.size).toBe(1);
    expect(w[0]).not.toBe(0.1);
  }, 120_000);

  it('Fashion-MNIST snapshots: the confusion matrix and the mistakes from the test images, recomputed only when asked', () => {
    const g = new Rng(3);
    const set = (n: number) =>
      pixelImageSet(
        k.tensor(
          Uint8Array.from({ length: n * 784 }, () => g.integer(0, 256)),
          { shape: [n, 784], dtype: 'uint8' },
        ),
        k.tensor(Int32Array.from({ length: n }, (_, i) => i % 10)),
      );
    const images = { train: set(200), test: set(50) };
    const s = new Session(presetConfig('fashion'), undefined, images);
    run(s, 3);
    const a = s.snapshot();
    const total = (a.confusion ?? []).flat().reduce((x, y) => x + y, 0);
    expect(total).toBe(50);
    const m = a.mistakes?.[0];
    if (!m) throw new Error('an untrained net on random pixels makes mistakes');
    const pixels = images.test.pixels?.readSync() as Uint8Array;
    const row = Array.from(pixels.subarray(0, 50 * 784)).join();
    // The shown image is one of the test images' rows, as stored (bytes).
    const at = row.indexOf(Array.from(m.pixels).join());
    expect(m.pixels).toHaveLength(784);
    expect(at).toBeGreaterThanOrEqual(0);
    run(s, 20);
    // Without predictions the snapshot shows the latest ones again; with them, the moved weights'.
    expect(s.snapshot(8, { predictions: false }).confusion).toBe(a.confusion);
    const b = s.snapshot(8);
    expect(b.confusion).not.toBe(a.confusion);
    expect(b.weights.norm).not.toBe(a.weights.norm);
  });

  it('the URL holds the configuration', () => {
    const c = validate(set(set(DEFAULTS, 'model.hidden', [32, 8]), 'optimizer.lr', 0.03));
    if (!('config' in c)) throw new Error(c.error);
    const q = toQuery(c.config);
    expect(q).toBe('model.hidden=32%2C8&optimizer.lr=0.03');
    expect(fromQuery(q).config).toEqual(c.config);
    expect(fromQuery('optimizer.lr=-1').error).toMatch(/optimizer.lr: Too small/);
    expect(fromQuery('optimizer.lr=-1').config).toEqual(DEFAULTS);
    expect(fromQuery('bogus=1').error).toMatch(/ignored unknown settings in the link: bogus/);
    for (const p of PRESETS) expect(fromQuery(toQuery(p.config)).config).toEqual(p.config);
  });
});
