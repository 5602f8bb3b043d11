/**
 * The shift library (src/shift): estimators exact on hand-made confusion matrices, the simplex
 * least squares against known minimizers, BCTS recovering a known temperature and bias, EM's fixed
 * point, p-values uniform-ish under the null and small under a shift, importance weights from a
 * domain classifier tracking the true density ratio, seeded generators, and fit's per-sample weights.
 */
import { describe, expect, it } from 'vitest';
import { data, nn, optim, shift, tensor, train } from '../src/index.js';
import { Rng } from '../src/util/random.js';

const { bbse, emPriors, rlls, emLabelShift, projectSimplex, simplexLeastSquares, totalVariation } = shift;

/** Logits whose argmax follows a confusion matrix M[ŷ][y] exactly (rows per class in proportion). */
function exactSample(m: number[][], counts: number[]): { logits: shift.Scores; labels: Int32Array } {
  const k = counts.length;
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let y = 0; y < k; y++)
    for (let yhat = 0; yhat < k; yhat++) {
      const c = Math.round(m[yhat][y] * counts[y]);
      for (let i = 0; i < c; i++) {
        rows.push(Array.from({ length: k }, (_, j) => (j === yhat ? 2 : 0)));
        labels.push(y);
      }
    }
  return { logits: shift.toScores('test', rows), labels: Int32Array.from(labels) };
}

describe('shift: label-shift estimators', () => {
  const M = [
    [0.8, 0.1, 0.2],
    [0.1, 0.7, 0.1],
    [0.1, 0.2, 0.7],
  ];
  it('BBSE recovers the target priors exactly from an exact confusion matrix', () => {
    const src = exactSample(M, [1000, 1000, 1000]);
    // Target with priors q = (0.5, 0.3, 0.2): class counts 500/300/200, predictions following M.
    const tgt = exactSample(M, [500, 300, 200]);
    const est = bbse().estimate({
      sourceLogits: src.logits,
      sourceLabels: src.labels,
      targetLogits: tgt.logits,
    });
    expect(est.priors[0]).toBeCloseTo(0.5, 6);
    expect(est.priors[1]).toBeCloseTo(0.3, 6);
    expect(est.priors[2]).toBeCloseTo(0.2, 6);
    expect(est.weights[0]).toBeCloseTo(1.5, 5);
    expect(est.info.condition as number).toBeGreaterThan(1);
  });

  it('BBSE on a singular confusion matrix still gives a prior (non-negative, sums to 1) and says cond = ∞', () => {
    const singular = [
      [0.5, 0.5, 0],
      [0.5, 0.5, 0],
      [0, 0, 1],
    ];
    const src = exactSample(singular, [100, 100, 100]);
    const tgt = exactSample(singular, [50, 50, 200]);
    const est = bbse().estimate({
      sourceLogits: src.logits,
      sourceLabels: src.labels,
      targetLogits: tgt.logits,
    });
    expect(est.info.condition).toBe(Number.POSITIVE_INFINITY);
    expect(est.priors.every((v) => v >= 0)).toBe(true);
    expect(est.priors.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(est.priors[2]).toBeCloseTo(200 / 300, 6);
  });

  it('RLLS with penalty 0 equals BBSE; a large penalty pulls the weights to 1', () => {
    const src = exactSample(M, [1000, 1000, 1000]);
    const tgt = exactSample(M, [600, 300, 100]);
    const d = { sourceLogits: src.logits, sourceLabels: src.labels, targetLogits: tgt.logits };
    const b = bbse().estimate(d).priors;
    const r0 = rlls({ penalty: 0 }).estimate(d).priors;
    for (let i = 0; i < 3; i++) expect(r0[i]).toBeCloseTo(b[i], 6);
    const big = rlls({ penalty: 1e6 }).estimate(d).weights;
    for (const w of big) expect(w).toBeCloseTo(1, 2);
  });

  it('the simplex least squares returns the unconstrained solution when valid and the projection otherwise', () => {
    const id = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const inside = simplexLeastSquares(id, [0.2, 0.3, 0.5]).q;
    expect(inside.map((v) => Number(v.toFixed(8)))).toEqual([0.2, 0.3, 0.5]);
    // With M = I the constrained minimizer is the Euclidean projection.
    const outside = simplexLeastSquares(id, [1.2, -0.4, 0.4]).q;
    const proj = projectSimplex([1.2, -0.4, 0.4]);
    for (let i = 0; i < 3; i++) expect(outside[i]).toBeCloseTo(proj[i], 8);
    expect(proj[0]).toBeCloseTo(0.9, 12);
    expect(proj[1]).toBe(0);
    expect(proj[2]).toBeCloseTo(0.1, 12);
  });

  it("EM's fixed point: on Bayes-exact posteriors of a shifted mixture it returns the target priors", () => {
    // Two 1-D Gaussians N(±1, 1) with source priors (0.5, 0.5); the target has (0.8, 0.2).
    const g = new Rng(3);
    const n = 20000;
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) {
      const y = g.random() < 0.8 ? 0 : 1;
      const x = (y === 0 ? -1 : 1) + g.normal();
      // Posterior under the source priors: logits (−2x·½, +2x·½) → p(1|x) = σ(2x).
      rows.push([-x, x]);
    }
    const probs = shift.softmaxRows(shift.toScores('test', rows));
    const r = emPriors(probs, [0.5, 0.5]);
    expect(r.converged).toBe(true);
    expect(Math.abs(r.q[0] - 0.8)).toBeLessThan(0.015);
  });

  it('BCTS recovers a known temperature and bias, and EM+BCTS beats raw EM on miscalibrated logits', () => {
    const g = new Rng(5);
    const k = 3;
    const trueBias = [0.5, 0, -0.5];
    // Labels drawn from softmax(z/2 + b): the logits are overconfident by a factor 2.
    const make = (n: number, priors: number[]) => {
      const rows: number[][] = [];
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const z = Array.from({ length: k }, () => 3 * g.normal());
        const p = shift.softmaxRows(shift.toScores('t', [z]), 0.5, trueBias).data;
        const w = Array.from(p, (v, j) => (v * priors[j]) / (1 / 3));
        const s = w.reduce((a, b) => a + b, 0);
        let u = g.random() * s;
        let y = 0;
        while (y < k - 1 && u >= w[y]) u -= w[y++];
        rows.push(z);
        labels.push(y);
      }
      return { logits: shift.toScores('t', rows), labels: Int32Array.from(labels) };
    };
    const src = make(6000, [1 / 3, 1 / 3, 1 / 3]);
    const cal = shift.fitBcts(src.logits, src.labels);
    expect(cal.temperature).toBeCloseTo(2, 0);
    expect(Math.abs(cal.temperature - 2)).toBeLessThan(0.15);
    expect(cal.bias[0] - cal.bias[2]).toBeCloseTo(1, 0);
    const tgt = make(6000, [0.6, 0.3, 0.1]);
    const truth = shift.frequencies(tgt.labels, k);
    const d = {
      sourceLogits: src.logits,
      sourceLabels: src.labels,
      targetLogits: tgt.logits,
      sourcePriors: [1 / 3, 1 / 3, 1 / 3],
    };
    const withCal = totalVariation(emLabelShift().estimate(d).priors, truth);
    const raw = totalVariation(emLabelShift({ calibration: 'none' }).estimate(d).priors, truth);
    expect(withCal).toBeLessThan(0.03);
    expect(withCal).toBeLessThan(raw);
  });

  it('post-hoc adjustment multiplies by the weights and renormalizes; bad weights are refused by value', () => {
    const p = shift.toScores('t', [[0.5, 0.5]]);
    expect(Array.from(shift.adjustProbabilities(p, [3, 1]).data)).toEqual([0.75, 0.25]);
    expect(() => shift.adjustProbabilities(p, [Number.NaN, 1])).toThrow(
      /weights must be finite and ≥ 0, got \[NaN, 1\]/,
    );
    expect(() =>
      bbse().estimate({
        sourceLogits: p,
        sourceLabels: Int32Array.from([0]),
        targetLogits: p,
        sourcePriors: [1, 0],
      }),
    ).toThrow(/every source prior must be > 0/);
  });
});

describe('shift: detection', () => {
  const gauss = (g: Rng, n: number, d: number, mean = 0) =>
    shift.toScores(
      't',
      Array.from({ length: n }, () => Array.from({ length: d }, () => mean + g.normal())),
    );

  it('MMD and label tests: p-values roughly uniform under the null, tiny under a shift', () => {
    const g = new Rng(11);
    const ps: number[] = [];
    for (let r = 0; r < 40; r++)
      ps.push(shift.mmdTest(gauss(g, 40, 3), gauss(g, 40, 3), g, { permutations: 99 }).pValue);
    // Uniform: about 5% below 0.05 and a mean near ½ (generous bounds for 40 draws).
    expect(ps.filter((p) => p < 0.05).length).toBeLessThanOrEqual(6);
    const m = ps.reduce((a, b) => a + b, 0) / ps.length;
    expect(m).toBeGreaterThan(0.35);
    expect(m).toBeLessThan(0.65);
    const shifted = shift.mmdTest(gauss(g, 60, 3), gauss(g, 60, 3, 0.8), g, { permutations: 199 });
    expect(shifted.pValue).toBeLessThan(0.01);
    expect(shifted.shifted).toBe(true);
    const lp: number[] = [];
    for (let r = 0; r < 40; r++) {
      const a = Int32Array.from({ length: 200 }, () => g.integer(0, 4));
      const b = Int32Array.from({ length: 200 }, () => g.integer(0, 4));
      lp.push(shift.labelTest(a, b, 4, g, { permutations: 199 }).pValue);
    }
    expect(lp.filter((p) => p < 0.05).length).toBeLessThanOrEqual(6);
    const skewed = Int32Array.from({ length: 200 }, () => (g.random() < 0.5 ? 0 : g.integer(0, 4)));
    const flat = Int32Array.from({ length: 200 }, () => g.integer(0, 4));
    expect(shift.labelTest(flat, skewed, 4, g).pValue).toBeLessThan(0.01);
  });

  it('classifier test: detects a mean shift, not a null', async () => {
    const g = new Rng(2);
    const shifted = await shift.classifierTest(gauss(g, 200, 5), gauss(g, 200, 5, 0.6), g);
    expect(shifted.pValue).toBeLessThan(0.01);
    expect(shifted.statistic).toBeGreaterThan(0.6);
    const none = await shift.classifierTest(gauss(g, 200, 5), gauss(g, 200, 5), g);
    expect(none.statistic).toBeLessThan(0.6);
  });

  it('the permutation p-value is (1 + #≥) / (1 + B) and never 0', () => {
    expect(shift.permutationPValue(5, [1, 2, 3])).toBe(0.25);
    expect(shift.permutationPValue(2, [1, 2, 3])).toBe(0.75);
    expect(() => shift.mmdTest(gauss(new Rng(0), 5, 2), gauss(new Rng(1), 5, 3), new Rng(0))).toThrow(
      /source has 2 features, target 3/,
    );
  });
});

describe('shift: covariate shift and generators', () => {
  it('importance weights from a domain classifier track the true density ratio', async () => {
    // Source N(0, 1), target N(1, 1) in 1-D: p_t/p_s = exp(x − ½).
    const g = new Rng(4);
    const xs = Array.from({ length: 2000 }, () => [g.normal()]);
    const xt = Array.from({ length: 2000 }, () => [1 + g.normal()]);
    const w = await shift.estimateImportanceWeights(
      shift.toScores('t', xs, 1),
      shift.toScores('t', xt, 1),
      g,
      {
        normalize: false,
        classifier: { epochs: 20 },
      },
    );
    let err = 0;
    let inRange = 0;
    xs.forEach(([x], i) => {
      if (Math.abs(x) < 1.5) {
        err += Math.abs(Math.log(w.weights[i]) - (x - 0.5));
        inRange++;
      }
    });
    expect(err / inRange).toBeLessThan(0.15);
    expect(w.effectiveSampleSize).toBeGreaterThan(200);
    expect(w.effectiveSampleSize).toBeLessThan(2000);
    const clipped = shift.weightsFromLogits([0, 10], 0, { clip: 5, normalize: false });
    expect(Array.from(clipped.weights)).toEqual([1, 5]);
    expect(clipped.clipped).toBe(1);
    expect(shift.effectiveSampleSize([1, 1, 1, 1])).toBe(4);
  });

  it('importance weights are clipped on the ratio scale, then normalized: one outlier does not set the scale', () => {
    // One row with a raw ratio of 10⁶ among 999 rows at 1. Clipped at 10 first: 10 and 999 ones,
    // mean 1.009. (Normalizing first would leave the outlier 90% of the weight and an ESS of ≈ 1.2.)
    const h = [Math.log(1e6), ...new Array<number>(999).fill(0)];
    const w = shift.weightsFromLogits(h, 0, { clip: 10 });
    expect(w.clipped).toBe(1);
    expect(w.weights[0]).toBeCloseTo(10 / 1.009, 9);
    expect(w.weights[1]).toBeCloseTo(1 / 1.009, 9);
    expect(w.max).toBeCloseTo(10 / 1.009, 9);
    expect(w.effectiveSampleSize).toBeCloseTo(1009 ** 2 / (100 + 999), 6);
    // The retrain's weights are the same function of an estimate's log-ratio, computed in chunks.
    const x = Float32Array.from([3, 0, -1, 0, 0.5, 0, 30, 0, 1, 0, -3, 0, 0, 0]);
    const estimate = {
      logRatio: (s: shift.Scores) => Float64Array.from({ length: s.n }, (_, i) => s.data[i * 2]),
    };
    const fromRows = shift.trainingWeights(estimate, x, 2, { clip: 10 }, 3);
    const direct = shift.weightsFromLogits([3, -1, 0.5, 30, 1, -3, 0], 0, { clip: 10 });
    expect(Array.from(fromRows.weights)).toEqual(Array.from(direct.weights));
    expect(fromRows.clipped).toBe(2);
  });

  it('generators: Dirichlet priors sum to 1 with the right mean, tweak-one, and samples follow the priors', () => {
    const g = new Rng(9);
    const mean = [0, 0, 0, 0];
    for (let r = 0; r < 2000; r++) {
      const d = shift.dirichletPriors(4, 0.5, g);
      for (let i = 0; i < 4; i++) mean[i] += d[i] / 2000;
    }
    for (const m of mean) expect(m).toBeCloseTo(0.25, 1);
    const p = shift.dirichletPriors(10, 0.1, g);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(shift.tweakOnePriors(3, 1, 0.6).map((v) => Number(v.toFixed(6)))).toEqual([0.2, 0.6, 0.2]);
    const labels = Int32Array.from({ length: 3000 }, (_, i) => i % 3);
    const s = shift.sampleWithPriors(labels, 3, [0.6, 0.3, 0.1], 1000, g, { counts: 'exact' });
    expect(s.counts).toEqual([600, 300, 100]);
    expect(s.withReplacement).toBe(false);
    expect(new Set(s.indices).size).toBe(1000);
    expect(Array.from(s.indices).filter((i) => labels[i] === 0).length).toBe(600);
    // Reproducible from the seed.
    expect(shift.dirichletPriors(5, 1, new Rng(1))).toEqual(shift.dirichletPriors(5, 1, new Rng(1)));
    expect(() => shift.dirichletPriors(5, 0, g)).toThrow(/alpha must be a finite number > 0, got 0/);
    expect(() => shift.sampleWithPriors(labels, 3, [0.5, 0.5, 0.5], 10, g)).toThrow(
      /priors must sum to 1, got 1.5/,
    );
    const sel = shift.biasedSelection([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, g);
    expect(sel.keep[9]).toBeGreaterThan(0.9);
    expect(sel.keep[0]).toBeLessThan(0.1);
  });
});

describe('fit with per-sample weights', () => {
  it('weights scale each sample: doubling data equals weight 2, and weighted data with a plain loss is refused', async () => {
    const g = new Rng(0);
    const x = tensor(Array.from({ length: 8 }, () => [g.normal(), g.normal()]));
    const y = tensor(Int32Array.from([0, 1, 0, 1, 1, 0, 1, 0]));
    const run = async (ds: data.Dataset) => {
      const model = new nn.Linear(2, 2, { generator: new Rng(1) });
      await train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        train: new data.DataLoader(ds, { batchSize: 100 }),
        epochs: 3,
      });
      return Array.from(model.weight.readSync());
    };
    // Weight 2 on the first 4 samples vs those samples repeated: the same mean loss up to the 12/8 normalization.
    const w = tensor(Float32Array.from([2, 2, 2, 2, 1, 1, 1, 1]));
    const weighted = await run(new data.TensorDataset(x, y, w));
    const idx = tensor(Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7]));
    const { indexSelect, mul } = await import('../src/index.js');
    const rep = await run(
      new data.TensorDataset(
        indexSelect(x, 0, idx),
        indexSelect(y, 0, idx),
        mul(tensor(new Float32Array(12).fill(1)), 12 / 8),
      ),
    );
    for (let i = 0; i < weighted.length; i++) expect(weighted[i]).toBeCloseTo(rep[i], 5);
    const model = new nn.Linear(2, 2);
    await expect(
      train.fit({
        model,
        optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
        train: new data.DataLoader(new data.TensorDataset(x, y, w), { batchSize: 4 }),
        loss: (o, t) => nn.F.crossEntropy(o, t),
        epochs: 1,
      }),
    ).rejects.toThrow(/carry per-sample weights .* give 'weightedLoss'/);
  });
});

describe('shift: cross-fitted weights, calibration and analyze', () => {
  it('cross-fitting tames an overfitting domain classifier: calibrated slope < 1, less noise in the weights, larger ESS', async () => {
    // 40 noise features and one informative one, trained long without decay: on the rows it trained
    // on, the classifier's logits carry the noise it fitted; out of fold, Platt scaling shrinks them.
    const g = new Rng(21);
    const row = (shiftBy: number) => [shiftBy + g.normal(), ...Array.from({ length: 40 }, () => g.normal())];
    const xs = Array.from({ length: 400 }, () => row(0));
    const xt = Array.from({ length: 400 }, () => row(1));
    const s = shift.toScores('t', xs, 1);
    const t = shift.toScores('t', xt, 1);
    const slopeOf = (w: Float64Array) => {
      // Least-squares slope of log w against the informative feature; the truth is 1 (exp(x − ½)).
      const x = xs.map((r) => r[0]);
      const y = Array.from(w, Math.log);
      const mx = x.reduce((a, b) => a + b, 0) / x.length;
      const my = y.reduce((a, b) => a + b, 0) / y.length;
      let c = 0;
      let v = 0;
      for (let i = 0; i < x.length; i++) {
        c += (x[i] - mx) * (y[i] - my);
        v += (x[i] - mx) ** 2;
      }
      return c / v;
    };
    const opts = { normalize: false, classifier: { epochs: 60, weightDecay: 0 } };
    const one = await shift.estimateImportanceWeights(s, t, new Rng(1), { ...opts, folds: 1 });
    const five = await shift.estimateImportanceWeights(s, t, new Rng(1), opts);
    expect(five.folds).toBe(5);
    expect(five.calibration.slope).toBeLessThan(1);
    // The spread of the log-weights not explained by the informative feature is the noise the
    // classifier fitted: the cross-fitted weights carry far less of it, and are worth more samples.
    const residual = (w: Float64Array) => {
      const b = slopeOf(w);
      const y = Array.from(w, Math.log);
      const r = y.map((v, i) => v - b * xs[i][0]);
      const m = r.reduce((a, c) => a + c, 0) / r.length;
      return Math.sqrt(r.reduce((a, c) => a + (c - m) ** 2, 0) / r.length);
    };
    expect(residual(five.weights)).toBeLessThan(residual(one.weights));
    expect(five.effectiveSampleSize).toBeGreaterThan(1.3 * one.effectiveSampleSize);
    expect(one.calibration).toEqual({ slope: 1, intercept: 0 });
    // On one informative feature alone the classifier does not overfit: Platt leaves it near 1.
    const lone = await shift.estimateImportanceWeights(
      shift.toScores(
        't',
        xs.map((r) => [r[0]]),
        1,
      ),
      shift.toScores(
        't',
        xt.map((r) => [r[0]]),
        1,
      ),
      new Rng(1),
      opts,
    );
    expect(lone.calibration.slope).toBeGreaterThan(0.8);
    expect(lone.calibration.slope).toBeLessThan(1.25);
    expect(Math.abs(slopeOf(lone.weights) - 1)).toBeLessThan(0.25);
    // logRatio scores new rows on the same scale.
    expect(five.logRatio(shift.toScores('t', [[3, ...new Array(40).fill(0)]], 1))[0]).toBeGreaterThan(1);
    await expect(shift.estimateImportanceWeights(s, t, g, { folds: 0 })).rejects.toThrow(
      /folds must be an integer ≥ 1, got 0/,
    );
  });

  it('the domain classifier scales pixels as told; BCTS with allowFlat accepts logits without signal', async () => {
    const g = new Rng(3);
    const x = shift.toScores(
      't',
      [
        [0, 1],
        [0, 2],
      ],
      1,
    );
    await expect(shift.trainDomainClassifier(x, x, g, { standardize: 'pixels' as 'global' })).rejects.toThrow(
      /standardize must be 'columns', 'global' or 'none', got 'pixels'/,
    );
    // Anti-correlated logits: a plain fit refuses, allowFlat returns an infinite temperature.
    const z = shift.toScores('t', [
      [0, 1],
      [0, -1],
      [0, 1],
      [0, -1],
    ]);
    const y = Int32Array.from([0, 1, 0, 1]);
    expect(() => shift.fitBcts(z, y)).toThrow(/anti-correlate/);
    const flat = shift.fitBcts(z, y, { allowFlat: true });
    expect(flat.temperature).toBe(Number.POSITIVE_INFINITY);
    expect(flat.nll).toBeCloseTo(Math.log(2), 6);
  });

  it('analyze: no verdict on a same-distribution target; a label shift is flagged, estimated and corrected', async () => {
    // Three 2-D Gaussian classes; the classifier is the Bayes rule's logits (class means known).
    const means = [
      [0, 0],
      [2, 0],
      [0, 2],
    ];
    const draw = (g: Rng, priors: number[], n: number) => {
      const counts = shift.multinomialCounts(n, priors, g);
      const f: number[][] = [];
      const y: number[] = [];
      counts.forEach((c, k) => {
        for (let i = 0; i < c; i++) {
          f.push([means[k][0] + g.normal(), means[k][1] + g.normal()]);
          y.push(k);
        }
      });
      const logits = f.map((p) => means.map((m) => -((p[0] - m[0]) ** 2 + (p[1] - m[1]) ** 2) / 2));
      return {
        features: shift.toScores('t', f, 1),
        logits: shift.toScores('t', logits),
        labels: Int32Array.from(y),
      };
    };
    const g = new Rng(8);
    const uniform = [1 / 3, 1 / 3, 1 / 3];
    const source = draw(g, uniform, 1500);
    const same = await shift.analyze(source, draw(g, uniform, 1500), g, { permutations: 200 });
    expect(same.shifted).toBe(false);
    expect(same.tests.map((t) => t.test)).toEqual(['label χ²', 'MMD', 'classifier']);
    const target = draw(g, [0.8, 0.1, 0.1], 1500);
    const a = await shift.analyze(source, target, g, { permutations: 200 });
    expect(a.shifted).toBe(true);
    const em = a.estimates.find((e) => e.method === 'EM+BCTS');
    expect(em?.priors[0]).toBeGreaterThan(0.7);
    expect(em?.tvError).toBeLessThan(0.05);
    expect(a.accuracy?.emBcts).toBeGreaterThan((a.accuracy?.uncorrected ?? 1) + 0.02);
    // Importance weights favour the target's class-0 region.
    const w0 = Array.from(a.covariate.weights).filter((_, i) => source.labels[i] === 0);
    const w1 = Array.from(a.covariate.weights).filter((_, i) => source.labels[i] === 1);
    const avg = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    expect(avg(w0)).toBeGreaterThan(2 * avg(w1));
    await expect(shift.analyze({ ...source, labels: undefined }, target, g)).rejects.toThrow(
      /the source needs labels/,
    );
    await expect(
      shift.analyze(source, { ...target, logits: shift.toScores('t', [[1, 2, 3]]) }, g),
    ).rejects.toThrow(/the target has 1500 feature rows but 1 logit rows/);
  });
});
