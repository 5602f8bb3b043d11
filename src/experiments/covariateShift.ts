/**
 * `covariate-shift` (D2L §4.7.1 and §4.7.3.1): the training sample is a biased selection of
 * Fashion-MNIST's training images — image i kept with probability σ(s·(bᵢ − median b)/sd b), where
 * bᵢ is its mean brightness (s = 3 favours bright garments) — while the target is the unbiased test
 * set: p(y | x) is unchanged, p(x) moves. Per seed:
 * - importance weights βᵢ = p_target(xᵢ)/p_source(xᵢ) of the source images from a logistic-regression
 *   domain classifier (source vs unlabeled target images, pixels on one shared scale), clipped at 10
 *   and normalized, with their effective sample size; and the true ratio 1/keepᵢ for comparison;
 * - softmax regression (D2L's linear classifier) trained three ways on the same source sample —
 *   naive, weighted by the estimated β, weighted by the true ratio — evaluated on held-out target
 *   images (loss and accuracy), so the gain of the estimated weights sits between none and the most
 *   that weighting can give;
 * - detection over repeated draws: the MMD and classifier two-sample tests on pixels and the χ² test
 *   on a model's predicted labels, under no shift (uniform training images vs test images) and under
 *   the brightness bias.
 * The target's test images are split once: half unlabeled (for the domain classifier), half labelled
 * (for evaluation only).
 */
import { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { mlp as buildMlp } from '../nn/mlp.js';
import { SGD } from '../optim/optimizers.js';
import { binValues, histogramPlot, linePlot, type Point } from '../report/plots.js';
import { estimateImportanceWeights, weightsFromLogits } from '../shift/covariate.js';
import { classifierTest, labelTest, mmdTest, type ShiftTestResult } from '../shift/detect.js';
import { PIXEL_DOMAIN_CLASSIFIER } from '../shift/domain.js';
import { biasedSelection, rowMeans, shuffled } from '../shift/generate.js';
import { argmaxRows, rowsAsScores } from '../shift/matrix.js';
import { modelLogits, weightedLoader } from '../shift/retrain.js';
import { fromHost } from '../tensor/create.js';
import { fit } from '../train/fit.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { fashionExperiment } from './fashionTrainer.js';
import { detectionLog, mean, sd } from './shiftSource.js';
import type { Check, ExperimentResult } from './types.js';

/** The domain classifier on pixels (shift/domain.ts says why these settings). */
const DOMAIN = PIXEL_DOMAIN_CLASSIFIER;

const pm = (xs: number[], digits = 4) => `${formatNumber(mean(xs), digits)} ± ${formatNumber(sd(xs), 3)}`;

/** Pearson correlation. */
function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let c = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    c += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return c / Math.sqrt(va * vb);
}

/** The three ways the classifier is trained. */
const VARIANTS = ['naive', 'importance-weighted', 'true weights'] as const;
type Variant = (typeof VARIANTS)[number];

export const covariateShift = fashionExperiment(
  'covariate-shift',
  async (ctx, data): Promise<ExperimentResult> => {
    const q = ctx.quick;
    const g = new Rng(ctx.seed);
    const strength = 3;
    const clip = 10;
    const sourceSize = q ? 2000 : 5000;
    const epochs = q ? 15 : 40;
    const seeds = q ? 2 : 5;
    const lr = 0.1;
    const batchSize = 256;
    const trainPixels = data.train.images.readSync() as Float32Array;
    const trainLabels = Int32Array.from(data.train.labels.readSync() as ArrayLike<number>);
    const testPixels = data.test.images.readSync() as Float32Array;
    const testLabels = Int32Array.from(data.test.labels.readSync() as ArrayLike<number>);
    const d = data.train.images.shape[1];
    const brightness = rowMeans(trainPixels, trainLabels.length);
    // A random part of the training set is kept out of every training: the source side of the shift
    // tests draws from it (uniformly under no shift, biased under the shift), so no test compares
    // images a model trained on — and removing the biased sources from the pool would itself shift it.
    const trainOrder = shuffled(
      Array.from({ length: trainLabels.length }, (_, i) => i),
      g,
    );
    const reserve = trainOrder.slice(0, Math.floor(trainOrder.length / 6));
    const poolIdx = trainOrder.slice(reserve.length);
    const poolBrightness = Float64Array.from(poolIdx, (i) => brightness[i]);
    const testBrightness = rowMeans(testPixels, testLabels.length);
    // The target: half of the test set unlabeled (for the domain classifier), half for evaluation.
    const testOrder = shuffled(
      Array.from({ length: testLabels.length }, (_, i) => i),
      g,
    );
    const half = Math.floor(testOrder.length / 2);
    const unlabeled = testOrder.slice(0, half);
    const evalIdx = testOrder.slice(half);
    const unlabeledRows = rowsAsScores(testPixels, d, unlabeled);
    const evalSet = new TensorDataset(
      fromHost(rowsAsScores(testPixels, d, evalIdx).data, [evalIdx.length, d], 'float32'),
      fromHost(
        Int32Array.from(evalIdx, (i) => testLabels[i]),
        [evalIdx.length],
        'int32',
      ),
    );
    ctx.log(
      `covariate-shift: ${seeds} seeds × ${VARIANTS.length} trainings of softmax regression on ${sourceSize} brightness-biased images (strength ${strength}), ${epochs} epochs; target: ${evalIdx.length} test images`,
    );
    type Row = {
      seed: number;
      ess: number;
      trueEss: number;
      clipped: number;
      correlation: number;
      loss: Record<Variant, number>;
      accuracy: Record<Variant, number>;
    };
    const rows: Row[] = [];
    const curves: Point[] = [];
    let firstWeights: { estimated: Float64Array; truth: Float64Array; brightness: Float64Array } | null =
      null;
    let firstSource: number[] = [];
    let firstModel: ReturnType<typeof buildMlp> | null = null;
    for (let seed = 0; seed < seeds; seed++) {
      const sel = biasedSelection(poolBrightness, strength, g);
      const picked = shuffled(Array.from(sel.indices), g).slice(0, sourceSize);
      const idx = picked.map((j) => poolIdx[j]);
      const sourceRows = rowsAsScores(trainPixels, d, idx);
      const est = await estimateImportanceWeights(sourceRows, unlabeledRows, g, {
        clip,
        classifier: DOMAIN,
      });
      // The true ratio p_target/p_source ∝ 1/keep (the target is the unselected pool's distribution).
      const truth = weightsFromLogits(
        picked.map((j) => -Math.log(sel.keep[j])),
        0,
      );
      const logEst = Array.from(est.weights, Math.log);
      const logTrue = Array.from(truth.weights, Math.log);
      const x = fromHost(sourceRows.data, [idx.length, d], 'float32');
      const y = fromHost(
        Int32Array.from(idx, (i) => trainLabels[i]),
        [idx.length],
        'int32',
      );
      const row: Row = {
        seed,
        ess: est.effectiveSampleSize,
        trueEss: truth.effectiveSampleSize,
        clipped: est.clipped,
        correlation: correlation(logEst, logTrue),
        loss: {} as Record<Variant, number>,
        accuracy: {} as Record<Variant, number>,
      };
      for (const v of VARIANTS) {
        const w = v === 'naive' ? null : v === 'importance-weighted' ? est.weights : truth.weights;
        // The same initialization and batch order for the three trainings of a seed.
        const gv = new Rng(ctx.seed * 1000 + seed);
        const model = buildMlp({ inputs: d, hidden: [], outputs: 10, init: 'normal', generator: gv });
        const h = await fit({
          model,
          optimizer: new SGD(model.parameters(), { lr }),
          train: weightedLoader(x, y, w, { batchSize, generator: gv }),
          test: new DataLoader(evalSet, { batchSize: 2500 }),
          epochs,
          signal: ctx.signal,
          divergence: ctx.divergence,
          progress: ctx.progress,
          callbacks: [
            {
              onEpochEnd(r) {
                ctx.onMetrics({ experiment: 'covariate-shift', run: v, seed, ...r });
                curves.push({ x: r.epoch, y: r.testLoss ?? Number.NaN, series: `${v} (seed ${seed})` });
              },
            },
          ],
        });
        const last = h.epochs[h.epochs.length - 1];
        row.loss[v] = last?.testLoss ?? Number.NaN;
        row.accuracy[v] = last?.testAccuracy ?? Number.NaN;
        if (seed === 0 && v === 'naive') firstModel = model;
      }
      rows.push(row);
      ctx.onMetrics({ experiment: 'covariate-shift', part: 'weights', ...row });
      ctx.log(
        `  seed ${seed}: ESS ${formatNumber(row.ess, 0)} (true weights ${formatNumber(row.trueEss, 0)}), target loss ${VARIANTS.map((v) => `${v} ${formatNumber(row.loss[v])}`).join(', ')}`,
      );
      if (seed === 0) {
        firstWeights = {
          estimated: est.weights,
          truth: truth.weights,
          brightness: Float64Array.from(idx, (i) => brightness[i]),
        };
        firstSource = idx;
      }
    }
    // Detection: draws of n source vs n target images, under no shift and under the bias.
    const detectN = q ? 200 : 300;
    const nullDraws = q ? 10 : 200;
    const powerDraws = q ? 10 : 50;
    ctx.log(
      `covariate-shift: shift tests on ${nullDraws} no-shift and ${powerDraws} shifted draws of ${detectN} vs ${detectN}`,
    );
    const model = firstModel as unknown as ReturnType<typeof buildMlp>;
    // The reserve: training images no model saw, so the seed-0 model predicts there as on test images.
    const biased = Array.from(
      biasedSelection(
        Float64Array.from(reserve, (i) => brightness[i]),
        strength,
        g,
      ).indices,
      (j) => reserve[j],
    );
    const predictions = (pixels: Float32Array, idx: number[]) =>
      argmaxRows(modelLogits(model, fromHost(rowsAsScores(pixels, d, idx).data, [idx.length, d], 'float32')));
    const tests = ['label χ²', 'MMD', 'classifier'];
    const detection = detectionLog(ctx, 'covariate-shift');
    for (const [kind, draws] of [
      ['none', nullDraws],
      ['brightness', powerDraws],
    ] as const)
      for (let r = 0; r < draws; r++) {
        const sIdx = shuffled(kind === 'none' ? reserve : biased, g).slice(0, detectN);
        const tIdx = shuffled(testOrder, g).slice(0, detectN);
        const sRows = rowsAsScores(trainPixels, d, sIdx);
        const tRows = rowsAsScores(testPixels, d, tIdx);
        const results: ShiftTestResult[] = [
          labelTest(predictions(trainPixels, sIdx), predictions(testPixels, tIdx), 10, g, {
            permutations: 500,
          }),
          mmdTest(sRows, tRows, g, { permutations: 200 }),
          await classifierTest(sRows, tRows, g, { permutations: 500, classifier: DOMAIN }),
        ];
        detection.record(kind, r, results);
      }
    const rate = (draw: string, test: string) => detection.rate(draw, test);
    // Checks.
    const lossOf = (v: Variant) => rows.map((r) => r.loss[v]);
    const accOf = (v: Variant) => rows.map((r) => r.accuracy[v]);
    const better = rows.filter((r) => r.loss['importance-weighted'] < r.loss.naive).length;
    const scale = q ? 'short run: ' : '';
    const checks: Check[] = [
      {
        name: `${scale}weighting by the true ratio lowers the target loss (the setting rewards correction; mean of ${seeds} seeds)`,
        passed: mean(lossOf('true weights')) < mean(lossOf('naive')),
        detail: `${pm(lossOf('true weights'))} vs naive ${pm(lossOf('naive'))}`,
      },
      {
        name: `${scale}importance-weighted training gives a lower target loss than naive training (mean of ${seeds} seeds)`,
        passed: mean(lossOf('importance-weighted')) < mean(lossOf('naive')),
        detail: `${pm(lossOf('importance-weighted'))} vs ${pm(lossOf('naive'))}; lower in ${better} of ${seeds} seeds; accuracy ${pm(accOf('importance-weighted'))} vs ${pm(accOf('naive'))}`,
      },
      {
        name: `${scale}the estimated log-weights follow the true ones (correlation ≥ 0.5, mean of ${seeds} seeds)`,
        passed: mean(rows.map((r) => r.correlation)) >= 0.5,
        detail: `${pm(rows.map((r) => r.correlation))}; ESS ${formatNumber(mean(rows.map((r) => r.ess)), 0)} of ${sourceSize} (true weights: ${formatNumber(mean(rows.map((r) => r.trueEss)), 0)})`,
      },
      ...tests.map((t) => ({
        name: `${scale}${t} test: false-positive rate at α = 0.05 within [${q ? '0, 0.30' : '0.02, 0.10'}] over ${nullDraws} no-shift draws`,
        passed: q ? rate('none', t) <= 0.3 : rate('none', t) >= 0.02 && rate('none', t) <= 0.1,
        detail: formatNumber(rate('none', t), 3),
      })),
      // A domain classifier on 784 pixels from 100 images a side is weak: the short run reports its power only.
      ...(q ? ['MMD', 'label χ²'] : ['MMD', 'classifier', 'label χ²']).map((t) => ({
        name: `${scale}${t} test: power ≥ 0.9 under the brightness bias at ${detectN} samples each (${powerDraws} draws)`,
        passed: rate('brightness', t) >= 0.9,
        detail: `${formatNumber(rate('brightness', t), 3)}${q ? ` (classifier test on pixels: ${formatNumber(rate('brightness', 'classifier'), 3)})` : ''}`,
      })),
    ];
    // Plots.
    const meanCurve: Point[] = VARIANTS.flatMap((v) =>
      Array.from({ length: epochs }, (_, e) => ({
        x: e + 1,
        y: mean(curves.filter((c) => c.x === e + 1 && c.series.startsWith(`${v} (`)).map((c) => c.y)),
        series: v,
        split: 'test' as const,
      })),
    );
    const w0 = firstWeights as unknown as {
      estimated: Float64Array;
      truth: Float64Array;
      brightness: Float64Array;
    };
    // Mean weight by brightness decile of the seed-0 source sample: the estimate against the truth.
    const order = Array.from(w0.brightness.keys()).sort((a, b) => w0.brightness[a] - w0.brightness[b]);
    const deciles = 10;
    const byBrightness: Point[] = [];
    for (let k = 0; k < deciles; k++) {
      const part = order.slice(
        Math.floor((k * order.length) / deciles),
        Math.floor(((k + 1) * order.length) / deciles),
      );
      const xb = mean(part.map((i) => w0.brightness[i]));
      byBrightness.push({ x: xb, y: mean(part.map((i) => w0.estimated[i])), series: 'estimated β' });
      byBrightness.push({ x: xb, y: mean(part.map((i) => w0.truth[i])), series: 'true ratio 1/keep' });
    }
    const pvalues = tests.map((t) => ({
      series: `${t}, no shift`,
      bins: binValues(detection.pValues('none', t), 10),
    }));
    const mESS = mean(rows.map((r) => r.ess));
    return {
      name: 'covariate-shift',
      title: 'Covariate shift on Fashion-MNIST: a brightness-biased training sample, importance-weighted',
      summary: [
        [
          'source sample',
          `${sourceSize} training images kept with probability σ(${strength}·(b − median)/sd), b = mean brightness (mean b ${formatNumber(mean(firstSource.map((i) => brightness[i])), 3)} vs ${formatNumber(mean(Array.from(testBrightness)), 3)} in the target)`,
        ],
        [
          `target loss (mean ± sd of ${seeds} seeds)`,
          VARIANTS.map((v) => `${v} ${pm(lossOf(v))}`).join(' · '),
        ],
        ['target accuracy', VARIANTS.map((v) => `${v} ${pm(accOf(v))}`).join(' · ')],
        [
          'importance weights',
          `ESS ${formatNumber(mESS, 0)} of ${sourceSize} (true weights ${formatNumber(mean(rows.map((r) => r.trueEss)), 0)}); clipped at ${clip}: ${formatNumber(mean(rows.map((r) => r.clipped)), 1)} per seed; log-weight correlation with the truth ${pm(
            rows.map((r) => r.correlation),
            3,
          )}`,
        ],
        [
          `power at ${detectN} vs ${detectN} (false positives)`,
          tests
            .map(
              (t) => `${t} ${formatNumber(rate('brightness', t), 3)} (${formatNumber(rate('none', t), 3)})`,
            )
            .join(' · '),
        ],
      ],
      checks,
      keyPlot: 'covariate-shift-loss',
      plots: [
        linePlot(meanCurve, {
          id: 'covariate-shift-loss',
          title: `Target (test) loss of softmax regression trained on the biased sample (mean of ${seeds} seeds)`,
          xTitle: 'epoch',
          yTitle: 'cross-entropy on the target',
          integerX: true,
          seriesOrder: [...VARIANTS],
        }),
        linePlot(byBrightness, {
          id: 'covariate-shift-weights-by-brightness',
          title: 'Mean importance weight by brightness decile (seed 0): estimated vs true',
          xTitle: 'mean brightness of the image',
          yTitle: 'weight (mean 1)',
          logY: true,
        }),
        histogramPlot(
          [
            { series: 'estimated β (domain classifier)', bins: binValues(w0.estimated.map(Math.log10), 30) },
            { series: 'true ratio 1/keep', bins: binValues(w0.truth.map(Math.log10), 30) },
          ],
          {
            id: 'covariate-shift-weights',
            title: 'Importance weights of the source images (seed 0), mean 1',
            xTitle: 'log₁₀ weight',
          },
        ),
        histogramPlot(
          [
            { series: 'source (biased sample)', bins: binValues(w0.brightness, 30) },
            { series: 'target (test set)', bins: binValues(testBrightness, 30) },
          ],
          { id: 'covariate-shift-brightness', title: 'Mean brightness of the images', xTitle: 'brightness' },
        ),
        histogramPlot(pvalues, {
          id: 'covariate-shift-pvalues',
          title: 'p-values under no shift (uniform if calibrated)',
          xTitle: 'p-value',
        }),
      ],
      tables: [
        {
          title: 'Per seed: weights and target loss / accuracy',
          header: [
            'seed',
            'ESS (estimated)',
            'ESS (true)',
            'log-weight correlation',
            ...VARIANTS.map((v) => `loss, ${v}`),
            ...VARIANTS.map((v) => `accuracy, ${v}`),
          ],
          rows: rows.map((r) => [
            r.seed,
            formatNumber(r.ess, 0),
            formatNumber(r.trueEss, 0),
            formatNumber(r.correlation, 3),
            ...VARIANTS.map((v) => formatNumber(r.loss[v])),
            ...VARIANTS.map((v) => formatNumber(r.accuracy[v])),
          ]),
        },
        {
          title: `Shift tests at α = 0.05 (${detectN} source vs ${detectN} target images)`,
          header: [
            'test',
            `false-positive rate (${nullDraws} no-shift draws)`,
            `power, brightness bias (${powerDraws} draws)`,
          ],
          rows: tests.map((t) => [
            t,
            formatNumber(rate('none', t), 3),
            formatNumber(rate('brightness', t), 3),
          ]),
        },
      ],
      result: {
        loss: Object.fromEntries(VARIANTS.map((v) => [v, { mean: mean(lossOf(v)), sd: sd(lossOf(v)) }])),
        accuracy: Object.fromEntries(VARIANTS.map((v) => [v, { mean: mean(accOf(v)), sd: sd(accOf(v)) }])),
        seeds: rows,
        effectiveSampleSize: mESS,
        detection: tests.map((t) => ({
          test: t,
          falsePositiveRate: rate('none', t),
          power: rate('brightness', t),
        })),
      },
      settings: {
        source: `${sourceSize} training images kept with probability σ(${strength}·(b − median b)/sd b), b = mean brightness`,
        target: `the test set: ${unlabeled.length} unlabeled images for the domain classifier, ${evalIdx.length} for evaluation`,
        model: `softmax regression (784-10), N(0, 0.01) init, SGD lr ${lr}, batch ${batchSize}, ${epochs} epochs`,
        weights: `logistic-regression domain classifier on pixels (one shared scale), AdamW lr ${DOMAIN.lr}, weight decay ${DOMAIN.weightDecay}, ${DOMAIN.epochs} epochs, balanced, cross-fitted over 5 folds and Platt-calibrated; β = exp(h) clipped at ${clip}, normalized to mean 1`,
        seeds,
        detection: { samples: detectN, nullDraws, powerDraws, alpha: 0.05 },
      },
    };
  },
);
