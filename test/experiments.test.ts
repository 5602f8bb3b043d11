/**
 * Short seeded versions of every experiment of the chapter, through the same code as
 * `keel experiment` (ctx.quick), asserting the direction of each effect. The synthetic ones run in
 * full (they take about a second); the Fashion-MNIST ones use subsets and few epochs and run when the
 * data is installed (.ci/run installs Debian's dataset-fashion-mnist).
 */
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS, type ExperimentResult } from '../src/experiments/index.js';
import { findFashionMnist, readFashionMnist } from '../src/io/node/fashionMnist.js';
import { needs } from './requires.js';

const dir = needs('Fashion-MNIST', 'experiments.test') ? findFashionMnist() : null;
const fashion = dir
  ? { train: readFashionMnist(dir, 'train', 10000), test: readFashionMnist(dir, 'test', 2000) }
  : null;

async function run(name: string): Promise<ExperimentResult & { rows: Record<string, unknown>[] }> {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new Error(name);
  const rows: Record<string, unknown>[] = [];
  const r = await e.run({ seed: 0, quick: true, fashion, log: () => {}, onMetrics: (row) => rows.push(row) });
  return { ...r, rows };
}

const passed = (r: ExperimentResult, prefix: string) => {
  const c = r.checks.find((x) => x.name.startsWith(prefix));
  if (!c) throw new Error(`no check starting with '${prefix}' in ${r.name}`);
  return c.passed;
};

describe('experiments (short, seeded)', () => {
  it('lists every experiment of the issue', () => {
    expect(EXPERIMENTS.map((e) => e.name)).toEqual([
      'underfit-overfit',
      'weight-decay',
      'mlp',
      'dropout',
      'stability',
      'memory',
      'label-shift',
      'covariate-shift',
      'perturbation',
      'best-mlp',
    ]);
  });

  it('underfit-overfit: degree 3 recovers the cubic, degree 1 underfits, degree 20 overfits', async () => {
    const r = await run('underfit-overfit');
    expect(
      r.checks.every((c) => c.passed),
      JSON.stringify(r.checks),
    ).toBe(true);
    const w = (r.result.cubic as { weights: number[] }).weights;
    expect(w[3]).toBeCloseTo(5.6, 0);
    expect(r.rows.length).toBeGreaterThan(10);
  });

  it('weight-decay: λ = 3 shrinks ‖w‖ below 0.6 and lowers the test loss; L1 makes exact zeros', async () => {
    const r = await run('weight-decay');
    expect(
      r.checks.every((c) => c.passed),
      JSON.stringify(r.checks),
    ).toBe(true);
    const sweep = r.result.sweep as { lambda: number; wNorm: number }[];
    for (let i = 1; i < sweep.length; i++) expect(sweep[i].wNorm).toBeLessThan(sweep[i - 1].wNorm);
  });

  it('stability: vanishing, exploding, symmetry and clipping are detected as described', async () => {
    const r = await run('stability');
    expect(
      r.checks.every((c) => c.passed),
      JSON.stringify(r.checks.filter((c) => !c.passed)),
    ).toBe(true);
    expect(r.plots.length).toBe(5);
  });

  it('memory: training keeps activations, prediction none; linear in batch and depth', async () => {
    const r = await run('memory');
    expect(
      r.checks.every((c) => c.passed),
      JSON.stringify(r.checks),
    ).toBe(true);
  });

  describe.runIf(fashion !== null)('Fashion-MNIST (subsets)', () => {
    it('mlp learns well above chance in 3 epochs on 10k images, and says it is a short run', async () => {
      const r = await run('mlp');
      expect(r.result.testAccuracy as number).toBeGreaterThan(0.5);
      expect(passed(r, 'short run (3 epochs, 10000 training, 2000 test images)')).toBe(true);
      expect(r.checks[0].name).toContain("the chapter's ≥ 0.82 is for the full run, keel experiment mlp");
      expect(r.settings).toMatchObject({ lr: 0.1, epochs: 3, trainImages: 10000 });
    }, 300_000);
    it('dropout: the book setting and the small-data comparison both train (short runs)', async () => {
      const r = await run('dropout');
      // chance is 0.1; lr 0.5 from N(0, 0.01) starts slowly: 3 epochs on 10k images reach about 0.5
      const acc = (k: string) => (r.result[k] as { testAccuracy: number }).testAccuracy;
      expect(acc('book')).toBeGreaterThan(0.3);
      expect(acc('withDropout')).toBeGreaterThan(0.5);
      expect(acc('withoutDropout')).toBeGreaterThan(0.5);
      expect(r.checks.map((c) => c.name.slice(0, 9))).toEqual(['short run', 'short run']);
      expect(r.checks.every((c) => c.passed)).toBe(true);
      const runs = new Set(r.rows.map((x) => x.run));
      expect([...runs]).toEqual([
        'dropout 0.2/0.5, all images',
        'dropout 0.2/0.5, 500 images',
        'no dropout, 500 images',
      ]);
    }, 300_000);
    it('label-shift (short run): EM+BCTS close to BBSE, correction helps, tests calibrated', async () => {
      const r = await run('label-shift');
      expect(
        r.checks.every((c) => c.passed),
        JSON.stringify(r.checks),
      ).toBe(true);
      const errors = r.result.errors as { method: string; bySize: { size: number; tv: number }[] }[];
      expect(errors.map((e) => e.method)).toEqual(['BBSE', 'RLLS', 'EM+BCTS', 'EM']);
      const correction = r.result.correction as { shift: string; uncorrected: number; em: number }[];
      const tweak = correction.find((c) => c.shift === 'tweak-one ρ = 0.9');
      expect((tweak?.em ?? 0) - (tweak?.uncorrected ?? 1)).toBeGreaterThan(0.01);
      expect(new Set(r.rows.map((x) => x.part))).toEqual(
        new Set([undefined, 'estimation', 'correction', 'detection']),
      );
    }, 300_000);
    it('covariate-shift (short run): weighting lowers the target loss, weights track the truth, tests detect the bias', async () => {
      const r = await run('covariate-shift');
      expect(
        r.checks.every((c) => c.passed),
        JSON.stringify(r.checks),
      ).toBe(true);
      const loss = r.result.loss as Record<string, { mean: number }>;
      expect(loss['importance-weighted'].mean).toBeLessThan(loss.naive.mean);
      expect(loss['true weights'].mean).toBeLessThan(loss.naive.mean);
      expect(r.result.effectiveSampleSize as number).toBeLessThan(2000);
      expect(new Set(r.rows.map((x) => x.part))).toEqual(new Set([undefined, 'weights', 'detection']));
      expect(r.plots.map((p) => p.id)).toContain('covariate-shift-weights-by-brightness');
    }, 300_000);
    it('perturbation (short run): augmentation and input noise narrow the gap in every seed, a perturbation beats weight decay, input noise calms the logits', async () => {
      const r = await run('perturbation');
      expect(
        r.checks.every((c) => c.passed),
        JSON.stringify(r.checks, null, 1),
      ).toBe(true);
      expect(r.checks.map((c) => c.name.slice(0, 9))).toEqual(Array(4).fill('short run'));
      const arms = r.result.arms as { id: string; seeds: { sensitivity: { sigma: number }[] }[] }[];
      expect(arms.map((a) => a.id)).toEqual([
        'none',
        'weight decay',
        'dropout',
        'input noise',
        'augmentation',
        'dropout + augmentation',
      ]);
      expect(arms[0].seeds[0].sensitivity.map((p) => p.sigma)).toEqual([0, 0.05, 0.1, 0.2, 0.3, 0.5]);
      expect(r.plots.map((p) => p.id)).toContain('perturbation-sensitivity');
    }, 300_000);
    it('best-mlp runs its regularized recipe end to end', async () => {
      const r = await run('best-mlp');
      expect(r.result.testAccuracy as number).toBeGreaterThan(0.6);
    }, 300_000);
  });
});
