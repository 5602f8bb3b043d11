/**
 * One call for "is my target data shifted, how, and what would correcting it give?" (the engine of
 * `keel shift`): given a source-trained classifier's outputs on held-out labelled source data and
 * on target data (with the inputs of both), it
 * - runs the three shift tests — χ² on predicted labels, MMD on the softmax outputs, a domain
 *   classifier on the inputs — and gives a verdict at level α with a Bonferroni correction over the
 *   three (shifted when some p < α/3), so the verdict's false-positive rate stays ≤ α;
 * - estimates the target's class priors with every label-shift estimator (BBSE, RLLS, EM+BCTS, EM)
 *   and, when target labels are given, their total-variation error against the true frequencies;
 * - estimates importance weights of the source rows (cross-fitted, calibrated domain classifier)
 *   with their effective sample size — what covariate-shift correction would train with;
 * - with target labels, the accuracy of the classifier on the target as it is, BCTS-calibrated,
 *   and corrected post hoc by EM+BCTS's and BBSE's priors.
 * Large samples are subsampled (seeded) for the O(n²) MMD and for the domain classifiers.
 */

import { ValueError } from '../util/errors.js';
import { checkOptions as checkOptionSchema } from '../util/options.js';
import type { Rng } from '../util/random.js';
import { fitBcts } from './calibrate.js';
import { type CovariateShiftEstimate, estimateImportanceWeights } from './covariate.js';
import { classifierTest, labelTest, mmdTest, type ShiftTestResult } from './detect.js';
import type { DomainClassifierOptions } from './domain.js';
import { shuffled } from './generate.js';
import { adjustProbabilities, type LabelShiftEstimate, labelShiftEstimators } from './labelShift.js';
import { argmaxRows, frequencies, type Scores, selectRows, softmaxRows, totalVariation } from './matrix.js';
import { AnalyzeOptionsSchema } from './options.js';

/** One side of the comparison: inputs and a source-trained classifier's logits on them. */
export interface ShiftSide {
  /** Inputs [n, d] (pixels, points: what the classifier reads). */
  features: Scores;
  /** The classifier's logits [n, K]. */
  logits: Scores;
  /** Labels (required for the source; for the target only to evaluate). */
  labels?: Int32Array;
}

/** Options of `analyze`. */
export interface AnalyzeOptions {
  /** Level of the verdict (default 0.05), split over the three tests (Bonferroni). */
  alpha?: number;
  /** Permutations of each test's p-value (default 500; MMD 200). */
  permutations?: number;
  /** Rows of each side the MMD uses at most (default 1000: its cost grows as n²). */
  mmdRows?: number;
  /** Rows of each side the domain classifiers use at most (default 5000). */
  classifierRows?: number;
  /** The source class priors the classifier was trained under (default: the held-out labels' frequencies). */
  sourcePriors?: number[];
  /** The domain classifier of the classifier test and the importance weights. */
  classifier?: DomainClassifierOptions;
  /** Clip of the importance weights (default 10, then normalized to mean 1). */
  clip?: number;
}

/** What `analyze` found. */
export interface ShiftAnalysis {
  tests: ShiftTestResult[];
  /** Some test's p-value < alpha / tests.length. */
  shifted: boolean;
  alpha: number;
  /** The source priors used, and each estimator's target priors (with the TV error when target labels are given). */
  sourcePriors: number[];
  estimates: (LabelShiftEstimate & { tvError?: number })[];
  /** The target's true class frequencies, when labels were given. */
  targetFrequencies?: number[];
  /** Importance weights of the (subsampled) source rows. */
  covariate: Pick<
    CovariateShiftEstimate,
    'weights' | 'effectiveSampleSize' | 'clipped' | 'max' | 'calibration' | 'logRatio'
  > & {
    rows: number;
  };
  /** Accuracy on the target, when labels were given. */
  accuracy?: { uncorrected: number; calibrated: number; emBcts: number; bbse: number };
  sizes: { source: number; target: number };
}

const accuracy = (pred: Int32Array, y: Int32Array) => {
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c / y.length;
};

/** At most `max` row indices of `n`, a seeded random subset when there are more. */
function subsample(n: number, max: number, g: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  return n <= max ? all : shuffled(all, g).slice(0, max);
}

function check(op: string, side: ShiftSide, name: string): void {
  if (side.features.n !== side.logits.n)
    throw new ValueError(
      `${op}: ${name} has ${side.features.n} feature rows but ${side.logits.n} logit rows`,
    );
  if (side.labels && side.labels.length !== side.logits.n)
    throw new ValueError(`${op}: ${name} has ${side.labels.length} labels for ${side.logits.n} rows`);
}

/**
 * Tests for shift between held-out source data and target data, estimates it both ways (label and
 * covariate shift) and, with target labels, measures what post-hoc correction gives.
 */
export async function analyze(
  source: ShiftSide,
  target: ShiftSide,
  g: Rng,
  opts: AnalyzeOptions = {},
): Promise<ShiftAnalysis> {
  checkOptionSchema('shift.analyze', AnalyzeOptionsSchema, opts);
  check('shift.analyze', source, 'the source');
  check('shift.analyze', target, 'the target');
  if (!source.labels) throw new ValueError('shift.analyze: the source needs labels (held-out labelled data)');
  if (source.features.k !== target.features.k)
    throw new ValueError(
      `shift.analyze: the source has ${source.features.k} features per row, the target ${target.features.k}`,
    );
  const k = source.logits.k;
  if (target.logits.k !== k)
    throw new ValueError(
      `shift.analyze: the source logits have ${k} classes, the target's ${target.logits.k}`,
    );
  const alpha = opts.alpha ?? 0.05;
  const b = opts.permutations ?? 500;
  const sourceLabels = source.labels;
  // 1. Tests.
  const sm = subsample(source.logits.n, opts.mmdRows ?? 1000, g);
  const tm = subsample(target.logits.n, opts.mmdRows ?? 1000, g);
  const sc = subsample(source.features.n, opts.classifierRows ?? 5000, g);
  const tc = subsample(target.features.n, opts.classifierRows ?? 5000, g);
  const tests = [
    labelTest(argmaxRows(source.logits), argmaxRows(target.logits), k, g, { permutations: b, alpha }),
    mmdTest(softmaxRows(selectRows(source.logits, sm)), softmaxRows(selectRows(target.logits, tm)), g, {
      permutations: Math.min(b, 200),
      alpha,
    }),
    await classifierTest(selectRows(source.features, sc), selectRows(target.features, tc), g, {
      permutations: b,
      alpha,
      classifier: opts.classifier,
    }),
  ];
  const shifted = tests.some((t) => t.pValue < alpha / tests.length);
  // 2. Label shift: every estimator.
  const sourcePriors = opts.sourcePriors ?? frequencies(sourceLabels, k);
  const targetFrequencies = target.labels ? frequencies(target.labels, k) : undefined;
  const d = { sourceLogits: source.logits, sourceLabels, targetLogits: target.logits, sourcePriors };
  const estimators = labelShiftEstimators();
  const estimates = estimators.map((e) => {
    const est = e.estimate(d);
    return targetFrequencies ? { ...est, tvError: totalVariation(est.priors, targetFrequencies) } : est;
  });
  // 3. Covariate shift: importance weights of the source rows.
  const w = await estimateImportanceWeights(
    selectRows(source.features, sc),
    selectRows(target.features, tc),
    g,
    {
      clip: opts.clip ?? 10,
      classifier: opts.classifier,
    },
  );
  // 4. Accuracy with target labels.
  let acc: ShiftAnalysis['accuracy'];
  if (target.labels) {
    const cal = fitBcts(source.logits, sourceLabels);
    const probs = softmaxRows(target.logits, 1 / cal.temperature, cal.bias);
    const byName = (name: string) => {
      const e = estimates.find((x) => x.method === name);
      if (!e) throw new ValueError(`shift.analyze: no estimator named ${name}`);
      return e;
    };
    acc = {
      uncorrected: accuracy(argmaxRows(target.logits), target.labels),
      calibrated: accuracy(argmaxRows(probs), target.labels),
      emBcts: accuracy(argmaxRows(adjustProbabilities(probs, byName('EM+BCTS').weights)), target.labels),
      bbse: accuracy(
        argmaxRows(adjustProbabilities(softmaxRows(target.logits), byName('BBSE').weights)),
        target.labels,
      ),
    };
  }
  return {
    tests,
    shifted,
    alpha,
    sourcePriors,
    estimates,
    targetFrequencies,
    covariate: {
      weights: w.weights,
      effectiveSampleSize: w.effectiveSampleSize,
      clipped: w.clipped,
      max: w.max,
      calibration: w.calibration,
      logRatio: w.logRatio,
      rows: sc.length,
    },
    accuracy: acc,
    sizes: { source: source.logits.n, target: target.logits.n },
  };
}
