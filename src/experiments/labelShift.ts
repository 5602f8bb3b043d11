/**
 * `label-shift` (D2L §4.7.3, Lipton et al. 2018, Alexandari et al. 2020): a Fashion-MNIST classifier
 * trained on the source (training set minus a held-out part), target sets drawn from the test set
 * under Dirichlet(α) priors (α ∈ {0.1, 1, 10}) and "tweak-one" (ρ ∈ {0.3, 0.6, 0.9}), several seeds
 * and sizes. Measures the total-variation error of each estimator's priors against the target
 * sample's class frequencies (BBSE, RLLS, EM+BCTS, EM), the accuracy on shifted targets before and
 * after post-hoc correction, and the false-positive rate and power of the three shift tests.
 */
import { binValues, histogramPlot, linePlot, type Point } from '../report/plots.js';
import { fitBcts } from '../shift/calibrate.js';
import { classifierTest, labelTest, mmdTest, type ShiftTestResult } from '../shift/detect.js';
import { dirichletPriors, sampleWithPriors, shuffled, tweakOnePriors } from '../shift/generate.js';
import { adjustProbabilities, bbse, emLabelShift, type LabelShiftData, rlls } from '../shift/labelShift.js';
import { argmaxRows, selectRows, softmaxRows, toScores, totalVariation } from '../shift/matrix.js';
import { modelLogits } from '../shift/retrain.js';
import { formatNumber } from '../util/number.js';
import { Rng } from '../util/random.js';
import { fashionExperiment } from './fashionTrainer.js';
import { detectionLog, labelsOf, mean, sd, trainSourceModel } from './shiftSource.js';
import type { Check, ExperimentResult } from './types.js';

/** A shift specification of the experiment. */
export type ShiftSpec =
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'tweak-one'; rho: number }
  | { kind: 'none' };

/** A readable name of a shift. */
export const shiftName = (s: ShiftSpec): string =>
  s.kind === 'dirichlet'
    ? `Dirichlet α = ${s.alpha}`
    : s.kind === 'tweak-one'
      ? `tweak-one ρ = ${s.rho}`
      : 'no shift';

/** The target priors of a shift for draw `seed` (tweak-one raises class seed mod K). */
export function priorsFor(s: ShiftSpec, classes: number, seed: number, g: Rng): number[] {
  if (s.kind === 'dirichlet') return dirichletPriors(classes, s.alpha, g);
  if (s.kind === 'tweak-one') return tweakOnePriors(classes, seed % classes, s.rho);
  return new Array<number>(classes).fill(1 / classes);
}

const accuracy = (pred: Int32Array, y: Int32Array) => {
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c / y.length;
};

export const labelShift = fashionExperiment('label-shift', async (ctx, data): Promise<ExperimentResult> => {
  const q = ctx.quick;
  const g = new Rng(ctx.seed);
  const src = await trainSourceModel(
    ctx,
    'label-shift',
    data.train,
    q ? { heldOut: 2000, epochs: 5, limit: 12000 } : { heldOut: 10000, epochs: 10 },
    g,
  );
  const sourceLogits = modelLogits(src.model, src.heldOut.images);
  const sourceLabels = labelsOf(src.heldOut);
  const poolLogits = modelLogits(src.model, data.test.images);
  const poolLabels = labelsOf(data.test);
  const K = sourceLogits.k;
  const sourcePriors = new Array<number>(K).fill(1 / K);
  const emBcts = emLabelShift({ calibration: 'bcts' });
  const estimators = [bbse(), rlls(), emBcts, emLabelShift({ calibration: 'none' })];
  const names = estimators.map((e) => e.name);
  const sizes = q ? [200, 2000] : [1000, 5000, 10000];
  const seeds = 5;
  const shifts: ShiftSpec[] = [
    { kind: 'dirichlet', alpha: 0.1 },
    { kind: 'dirichlet', alpha: 1 },
    { kind: 'dirichlet', alpha: 10 },
    { kind: 'tweak-one', rho: 0.3 },
    { kind: 'tweak-one', rho: 0.6 },
    { kind: 'tweak-one', rho: 0.9 },
  ];
  // 1. Estimation error against target size.
  ctx.log(
    `label-shift: estimating priors for ${shifts.length} shifts × ${sizes.length} sizes × ${seeds} seeds`,
  );
  const errors: { shift: string; size: number; seed: number; method: string; tv: number }[] = [];
  for (const s of shifts)
    for (let seed = 0; seed < seeds; seed++)
      for (const size of sizes) {
        const truth = priorsFor(s, K, seed, g);
        const draw = sampleWithPriors(poolLabels, K, truth, size, g);
        const actual = draw.counts.map((c) => c / size);
        const d: LabelShiftData = {
          sourceLogits,
          sourceLabels,
          targetLogits: selectRows(poolLogits, draw.indices),
          sourcePriors,
        };
        for (const e of estimators) {
          const est = e.estimate(d);
          const tv = totalVariation(est.priors, actual);
          errors.push({ shift: shiftName(s), size, seed, method: e.name, tv });
          ctx.onMetrics({
            experiment: 'label-shift',
            part: 'estimation',
            shift: shiftName(s),
            size,
            seed,
            method: e.name,
            tv,
          });
        }
      }
  const meanTv = (shift: string, size: number, method: string) =>
    errors.filter((r) => r.shift === shift && r.size === size && r.method === method).map((r) => r.tv);
  const biggest = sizes[sizes.length - 1];
  const alpha1 = shiftName({ kind: 'dirichlet', alpha: 1 });
  // 2. Post-hoc correction with the BCTS-calibrated probabilities and EM+BCTS's (or BBSE's) weights.
  const cal = fitBcts(sourceLogits, sourceLabels);
  const correction: {
    shift: string;
    seed: number;
    uncorrected: number;
    calibrated: number;
    em: number;
    bbse: number;
  }[] = [];
  for (const s of [
    { kind: 'none' } as ShiftSpec,
    { kind: 'tweak-one', rho: 0.9 } as ShiftSpec,
    { kind: 'dirichlet', alpha: 1 } as ShiftSpec,
  ])
    for (let seed = 0; seed < seeds; seed++) {
      const truth = priorsFor(s, K, seed, g);
      const draw =
        s.kind === 'none'
          ? {
              indices: Int32Array.from(
                shuffled(
                  Array.from({ length: poolLabels.length }, (_, i) => i),
                  g,
                ).slice(0, biggest),
              ),
            }
          : sampleWithPriors(poolLabels, K, truth, biggest, g);
      const t = selectRows(poolLogits, draw.indices);
      const y = Int32Array.from(draw.indices, (i) => poolLabels[i]);
      const d: LabelShiftData = { sourceLogits, sourceLabels, targetLogits: t, sourcePriors };
      const probs = softmaxRows(t, 1 / cal.temperature, cal.bias);
      const row = {
        shift: shiftName(s),
        seed,
        uncorrected: accuracy(argmaxRows(t), y),
        calibrated: accuracy(argmaxRows(probs), y),
        em: accuracy(argmaxRows(adjustProbabilities(probs, emBcts.estimate(d).weights)), y),
        bbse: accuracy(argmaxRows(adjustProbabilities(softmaxRows(t), estimators[0].estimate(d).weights)), y),
      };
      correction.push(row);
      ctx.onMetrics({ experiment: 'label-shift', part: 'correction', ...row });
    }
  const corr = (shift: string, f: (r: (typeof correction)[number]) => number) =>
    correction.filter((r) => r.shift === shift).map(f);
  // 3. Detection: false-positive rate and power at α = 0.05 over repeated draws, 1k vs 1k.
  const nullDraws = q ? 20 : 200;
  const powerDraws = q ? 10 : 50;
  const detectN = q ? 300 : 1000;
  ctx.log(
    `label-shift: shift tests on ${nullDraws} no-shift and ${powerDraws} shifted draws of ${detectN} vs ${detectN}`,
  );
  const tests = ['label χ²', 'MMD', 'classifier'];
  const detection = detectionLog(ctx, 'label-shift');
  // The classifier test's features, read to the host once for every draw.
  const heldOutPixels = toScores('label-shift', src.heldOut.images, 1);
  const testPixels = toScores('label-shift', data.test.images, 1);
  const heldIdx = Array.from({ length: sourceLabels.length }, (_, i) => i);
  const poolIdx = Array.from({ length: poolLabels.length }, (_, i) => i);
  for (const [kind, draws] of [
    ['none', nullDraws],
    ['dirichlet', powerDraws],
  ] as const)
    for (let r = 0; r < draws; r++) {
      const sIdx = shuffled(heldIdx, g).slice(0, detectN);
      const tIdx =
        kind === 'none'
          ? shuffled(poolIdx, g).slice(0, detectN)
          : Array.from(sampleWithPriors(poolLabels, K, dirichletPriors(K, 1, g), detectN, g).indices);
      const sl = selectRows(sourceLogits, sIdx);
      const tl = selectRows(poolLogits, tIdx);
      const results: ShiftTestResult[] = [
        labelTest(argmaxRows(sl), argmaxRows(tl), K, g, { permutations: 500 }),
        mmdTest(softmaxRows(sl), softmaxRows(tl), g, { permutations: 100 }),
        await classifierTest(selectRows(heldOutPixels, sIdx), selectRows(testPixels, tIdx), g, {
          permutations: 500,
        }),
      ];
      detection.record(kind, r, results);
    }
  const rate = (draw: string, test: string) => detection.rate(draw, test);
  // Checks.
  const tvAt = (m: string, size = biggest) => mean(meanTv(alpha1, size, m));
  const best = names.reduce((b, m) => (tvAt(m) < tvAt(b) ? m : b), names[0]);
  const gain = mean(corr('tweak-one ρ = 0.9', (r) => r.em - r.uncorrected));
  const cost = mean(corr('no shift', (r) => r.uncorrected - r.em));
  const scale = q ? 'short run: ' : '';
  const checks: Check[] = [
    {
      name: `${scale}Dirichlet α = 1, ${biggest} target samples: the best estimator's priors within TV ≤ ${q ? 0.1 : 0.03} (mean of ${seeds} seeds)`,
      passed: tvAt(best) <= (q ? 0.1 : 0.03),
      detail: names.map((m) => `${m} ${formatNumber(tvAt(m))}`).join(', '),
    },
    {
      name: q
        ? `${scale}EM+BCTS within 0.03 of BBSE (Dirichlet α = 1, ${biggest} samples; the full run checks no worse, as Alexandari et al. 2020 found)`
        : `EM+BCTS no worse than BBSE (Dirichlet α = 1, ${biggest} samples; Alexandari et al. 2020)`,
      passed: tvAt('EM+BCTS') <= tvAt('BBSE') + (q ? 0.03 : 0),
      detail: `EM+BCTS ${formatNumber(tvAt('EM+BCTS'))} vs BBSE ${formatNumber(tvAt('BBSE'))}`,
    },
    {
      name: `${scale}post-hoc correction under tweak-one ρ = 0.9 gains ≥ ${q ? 1 : 3} accuracy points`,
      passed: gain * 100 >= (q ? 1 : 3),
      detail: `+${formatNumber(gain * 100, 2)} points (${formatNumber(mean(corr('tweak-one ρ = 0.9', (r) => r.uncorrected)))} → ${formatNumber(mean(corr('tweak-one ρ = 0.9', (r) => r.em)))})`,
    },
    {
      name: `${scale}under no shift the correction costs < ${q ? 1.5 : 0.5} point`,
      passed: cost * 100 < (q ? 1.5 : 0.5),
      detail: `${formatNumber(cost * 100, 2)} points (${formatNumber(mean(corr('no shift', (r) => r.uncorrected)))} → ${formatNumber(mean(corr('no shift', (r) => r.em)))})`,
    },
    ...tests.map((t) => ({
      name: `${scale}${t} test: false-positive rate at α = 0.05 within [${q ? '0, 0.20' : '0.02, 0.10'}] over ${nullDraws} no-shift draws`,
      passed: q ? rate('none', t) <= 0.2 : rate('none', t) >= 0.02 && rate('none', t) <= 0.1,
      detail: `${formatNumber(rate('none', t), 3)}`,
    })),
    ...['label χ²', 'MMD'].map((t) => ({
      name: `${scale}${t} test: power ≥ 0.9 for Dirichlet α = 1 at ${detectN} target samples (${powerDraws} draws)`,
      passed: rate('dirichlet', t) >= 0.9,
      detail: `${formatNumber(rate('dirichlet', t), 3)} (classifier test on pixels: ${formatNumber(rate('dirichlet', 'classifier'), 3)})`,
    })),
  ];
  // The fall with n is a variance statement: the short run's weak model is bias-dominated, so only the full run checks it.
  if (!q)
    checks.splice(2, 0, {
      name: `each estimator's error falls as the target sample grows (${sizes[0]} → ${biggest}, Dirichlet α = 1)`,
      passed: names.every((m) => tvAt(m, biggest) < tvAt(m, sizes[0])),
      detail: names
        .map((m) => `${m} ${formatNumber(tvAt(m, sizes[0]))} → ${formatNumber(tvAt(m))}`)
        .join(', '),
    });
  const errorPts: Point[] = names.flatMap((m) =>
    sizes.map((size) => ({ x: size, y: tvAt(m, size), series: m })),
  );
  const pvalues = tests.map((t) => ({
    series: `${t}, no shift`,
    bins: binValues(detection.pValues('none', t), 10),
  }));
  const errTable = shifts.map((s) => [
    shiftName(s),
    ...names.flatMap((m) => sizes.map((size) => formatNumber(mean(meanTv(shiftName(s), size, m)), 4))),
  ]);
  return {
    name: 'label-shift',
    title: 'Label shift on Fashion-MNIST: estimate the target priors, correct, detect',
    summary: [
      [
        'source classifier',
        `784-256-10, ${src.trainSize} images, ${src.epochs} epochs, held-out accuracy ${formatNumber(src.heldOutAccuracy)}`,
      ],
      [
        `prior error (TV), Dirichlet α = 1, ${biggest} samples`,
        names.map((m) => `${m} ${formatNumber(tvAt(m))}`).join(' · '),
      ],
      [
        'accuracy under tweak-one ρ = 0.9',
        `${formatNumber(mean(corr('tweak-one ρ = 0.9', (r) => r.uncorrected)))} → ${formatNumber(mean(corr('tweak-one ρ = 0.9', (r) => r.em)))} corrected (EM+BCTS)`,
      ],
      [
        'false-positive rate (α = 0.05)',
        tests.map((t) => `${t} ${formatNumber(rate('none', t), 3)}`).join(' · '),
      ],
      [
        'power, Dirichlet α = 1',
        tests.map((t) => `${t} ${formatNumber(rate('dirichlet', t), 3)}`).join(' · '),
      ],
    ],
    checks,
    keyPlot: 'label-shift-error',
    plots: [
      linePlot(errorPts, {
        id: 'label-shift-error',
        title: `Error of the estimated priors against target size (Dirichlet α = 1, mean of ${seeds} seeds)`,
        xTitle: 'target samples',
        yTitle: 'total variation to the true priors',
        logY: true,
        xTicks: sizes,
        seriesOrder: names,
      }),
      histogramPlot(pvalues, {
        id: 'label-shift-pvalues',
        title: 'p-values under no shift (uniform if calibrated)',
        xTitle: 'p-value',
      }),
    ],
    tables: [
      {
        title: 'Total variation error of the estimated priors (mean over seeds)',
        header: ['shift', ...names.flatMap((m) => sizes.map((s) => `${m} @ ${s}`))],
        rows: errTable,
      },
      {
        title: `Accuracy on the target (${biggest} samples, mean over ${seeds} seeds)`,
        header: ['shift', 'uncorrected', 'BCTS-calibrated', 'corrected by EM+BCTS', 'corrected by BBSE'],
        rows: ['no shift', 'tweak-one ρ = 0.9', alpha1].map((s) => [
          s,
          formatNumber(mean(corr(s, (r) => r.uncorrected))),
          formatNumber(mean(corr(s, (r) => r.calibrated))),
          `${formatNumber(mean(corr(s, (r) => r.em)))} ± ${formatNumber(sd(corr(s, (r) => r.em)), 3)}`,
          formatNumber(mean(corr(s, (r) => r.bbse))),
        ]),
      },
      {
        title: `Shift tests at α = 0.05 (${detectN} source vs ${detectN} target samples)`,
        header: [
          'test',
          `false-positive rate (${nullDraws} no-shift draws)`,
          `power, Dirichlet α = 1 (${powerDraws} draws)`,
        ],
        rows: tests.map((t) => [t, formatNumber(rate('none', t), 3), formatNumber(rate('dirichlet', t), 3)]),
      },
    ],
    result: {
      heldOutAccuracy: src.heldOutAccuracy,
      calibration: { temperature: cal.temperature, bias: cal.bias },
      errors: names.map((m) => ({ method: m, bySize: sizes.map((size) => ({ size, tv: tvAt(m, size) })) })),
      correction: ['no shift', 'tweak-one ρ = 0.9', alpha1].map((s) => ({
        shift: s,
        uncorrected: mean(corr(s, (r) => r.uncorrected)),
        em: mean(corr(s, (r) => r.em)),
        bbse: mean(corr(s, (r) => r.bbse)),
      })),
      detection: tests.map((t) => ({
        test: t,
        falsePositiveRate: rate('none', t),
        power: rate('dirichlet', t),
      })),
    },
    settings: {
      source: `784-256-10 MLP, SGD lr 0.1, batch 256, ${src.epochs} epochs on ${src.trainSize} training images; ${sourceLabels.length} held out`,
      targets:
        "drawn from the test set with the shift's class priors (without replacement while a class has enough images)",
      shifts: shifts.map(shiftName),
      sizes,
      seeds,
      estimators: names,
      detection: { samples: detectN, nullDraws, powerDraws, alpha: 0.05 },
    },
  };
});
