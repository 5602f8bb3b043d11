/**
 * `keel shift --config run.json | --checkpoint runs/<name>  --target <file | dataset spec>`: is the
 * target data shifted from what the model was trained on, how, and what would correcting it give?
 * - The model: trained from the config (a complete run in <run dir>/source/, with its own report and
 *   checkpoint; a config without a validation split gets 10% held out), or loaded from a run's
 *   checkpoint (which carries its configuration).
 * - The held-out labelled source data: the run's validation split (the same rows: the split is
 *   seeded by the config); a run without one uses half of its test split (the other half is then
 *   the pool a test-split target is drawn from, so the two never share images).
 * - The target: see shiftTarget.ts (files, or a data set split shifted on purpose with --shift).
 * - shift.analyze: the three tests with a Bonferroni verdict, every label-shift estimator's priors,
 *   the importance weights with their ESS and, with target labels, the accuracy before and after
 *   post-hoc correction; `--retrain` also trains the config's model again with importance weights on
 *   the training data and reports its target accuracy (covariate-shift correction).
 * Writes <out>/<name>/ (config.json, result.json, report.html with plots) and prints the verdict;
 * `--json` prints the result. The exit code is 0 whether or not a shift is found (1 on errors).
 */
import { readFileSync } from 'node:fs';
import { TensorDataset } from '../../data/dataset.js';
import type { ImageSet } from '../../data/fashionMnist.js';
import { FASHION_MNIST_CLASSES } from '../../data/fashionMnist.js';
import { DataFormatError } from '../../data/idx.js';
import { DataLoader } from '../../data/loader.js';
import { logitsOf } from '../../experiments/shiftSource.js';
import { idxFromFileBytes } from '../../io/node/fashionMnist.js';
import { environmentInfo } from '../../io/node/info.js';
import type { Module } from '../../nn/module.js';
import { binValues, histogramPlot, linePlot, type Point } from '../../report/plots.js';
import { analyze, type ShiftAnalysis } from '../../shift/analyze.js';
import { shuffled } from '../../shift/generate.js';
import { frequencies, type Scores } from '../../shift/matrix.js';
import { fromHost } from '../../tensor/create.js';
import { schedulerStep } from '../../train/callbacks.js';
import { type Callback, evaluate, fit } from '../../train/fit.js';
import { ValueError } from '../../util/errors.js';
import { formatNumber } from '../../util/number.js';
import { Rng } from '../../util/random.js';
import { buildData, buildModel, buildOptimizer, buildScheduler, dataShape } from '../build.js';
import { modelFromCheckpoint } from '../checkpointModel.js';
import { type RunConfig, RunConfigSchema } from '../config.js';
import { loadFashion } from '../fashion.js';
import { readPredictInput } from '../predictInput.js';
import { terminalProgress } from '../progress.js';
import { RunDir } from '../runDir.js';
import {
  drawTarget,
  parseDatasetTarget,
  parseShiftSpec,
  type ShiftSpec,
  shiftSpecName,
} from '../shiftTarget.js';
import { trainCommand } from './train.js';

/** Options of `keel shift`. */
export interface ShiftCommandOptions {
  /** Train the source model from this configuration… */
  config?: RunConfig;
  /** …or load it from a run directory or checkpoint file. */
  checkpoint?: string;
  target: string;
  targetLabels?: string;
  shift?: string;
  targetSize?: number;
  targetSeed?: number;
  retrain?: boolean;
  name?: string;
  out: string;
  log: (line: string) => void;
  tty?: boolean;
  signal?: AbortSignal;
}

/** What `keel shift` found, and where its report is. */
export interface ShiftCommandResult {
  analysis: ShiftAnalysis;
  report: string;
  dir: string;
  /** The target's description. */
  target: string;
  retrained?: {
    uncorrected: { loss: number; accuracy?: number };
    weighted: { loss: number; accuracy?: number };
  };
}

/**
 * Row-major inputs and labels of a loader's batches (in the loader's order); with `labelsOnly` the
 * inputs are not copied to the host (x is empty).
 */
function hostRows(
  loader: DataLoader,
  labelsOnly = false,
): { x: Float32Array; y: Int32Array; n: number; d: number } {
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  let d = 0;
  for (const [x, y] of loader) {
    d = labelsOnly ? 0 : x.shape[1];
    if (!labelsOnly) xs.push(Float32Array.from(x.readSync() as ArrayLike<number>));
    ys.push(Int32Array.from(y.readSync() as ArrayLike<number>));
  }
  const n = ys.reduce((a, b) => a + b.length, 0);
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  let at = 0;
  ys.forEach((part, i) => {
    if (!labelsOnly) x.set(xs[i], at * d);
    y.set(part, at);
    at += part.length;
  });
  return { x, y, n, d };
}

const rowsOf = (x: Float32Array, d: number, idx: ArrayLike<number>) => {
  const out = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) out.set(x.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
  return out;
};
const scores = (x: Float32Array, d: number): Scores => ({
  n: x.length / d,
  k: d,
  data: Float64Array.from(x),
});
const logits = (model: Module, x: Float32Array, d: number) =>
  logitsOf(model, fromHost(x, [x.length / d, d], 'float32'));

/** Runs `keel shift`. */
export async function shiftCommand(o: ShiftCommandOptions): Promise<ShiftCommandResult> {
  const { log } = o;
  if (Boolean(o.config) === Boolean(o.checkpoint))
    throw new ValueError(
      'keel shift: give the model as --config <run.json> (trains it) or --checkpoint <run> (one of them)',
    );
  const spec: ShiftSpec = parseShiftSpec(o.shift ?? 'none');
  if (o.targetSize !== undefined && !(Number.isInteger(o.targetSize) && o.targetSize >= 10))
    throw new ValueError(`--target-size must be an integer ≥ 10, got ${o.targetSize}`);
  const baseName = o.checkpoint ? 'shift' : `shift-${(o.config as RunConfig).name}`;
  const run = new RunDir(o.out, o.name ?? baseName, 'force');
  // 1. The source model.
  let config: RunConfig;
  let modelPath: string;
  if (o.config) {
    config = o.config;
    if (config.data.validation === 0) {
      log(
        'keel shift: the config holds no validation split; 10% of the training data is held out as labelled source data',
      );
      config = RunConfigSchema.parse({ ...config, data: { ...config.data, validation: 0.1 } });
    }
    const trained = await trainCommand(
      { ...config, name: 'source' },
      { out: run.dir, log, tty: o.tty, force: true, signal: o.signal, diagnostics: false },
    );
    if (trained.end.kind === 'diverged')
      throw new ValueError(`keel shift: the source model's training diverged; see ${trained.report}`);
    modelPath = trained.dir;
  } else modelPath = o.checkpoint as string;
  const loaded = modelFromCheckpoint(modelPath);
  config = loaded.config;
  const model = loaded.model;
  const { inputs, classes, classNames } = dataShape(config);
  // 2. The data: the source's held-out split and, for data set targets, the pool.
  const known = RunConfigSchema.shape.data.unwrap().shape.dataset.unwrap().options as readonly string[];
  const dsTarget = parseDatasetTarget(o.target, config.data.dataset, known);
  if (dsTarget && dsTarget.dataset !== config.data.dataset) {
    // Before any data is loaded: a data set of another shape cannot be the target.
    const shape = dataShape(otherConfig(config, dsTarget.dataset));
    if (shape.inputs !== inputs || shape.classes !== classes)
      throw new ValueError(
        `--target ${o.target}: ${dsTarget.dataset} has ${shape.inputs} inputs and ${shape.classes} classes, the model ${inputs} and ${classes}`,
      );
  }
  let fashion: { train: ImageSet; test: ImageSet } | null = null;
  if (config.data.dataset === 'fashion-mnist' || dsTarget?.dataset === 'fashion-mnist')
    fashion = await loadFashion({ download: config.data.download, limit: config.data.limit, log });
  const data = buildData(config, fashion);
  const g = new Rng(o.targetSeed ?? 0);
  // The training inputs come to the host only to be re-weighted (--retrain); the priors need the labels.
  const trainRows = hostRows(data.train, !o.retrain);
  const sourcePriors = frequencies(trainRows.y, classes);
  let held: { x: Float32Array; y: Int32Array };
  let testPool: { x: Float32Array; y: Int32Array } | null = null;
  if (data.validation) {
    const v = hostRows(data.validation);
    held = { x: v.x, y: v.y };
    log(`source: ${v.n} held-out labelled rows (the run's validation split)`);
  } else {
    const t = hostRows(data.test);
    const order = shuffled(
      Array.from({ length: t.n }, (_, i) => i),
      new Rng(config.seed),
    );
    const h = order.slice(0, Math.floor(t.n / 2));
    const rest = order.slice(h.length);
    held = { x: rowsOf(t.x, inputs, h), y: Int32Array.from(h, (i) => t.y[i]) };
    testPool = { x: rowsOf(t.x, inputs, rest), y: Int32Array.from(rest, (i) => t.y[i]) };
    log(
      `source: the run has no validation split; ${h.length} of its test rows are the held-out labelled source data`,
    );
  }
  // 3. The target.
  let target: { x: Float32Array; y?: Int32Array };
  let targetText: string;
  if (dsTarget) {
    if (o.targetLabels)
      throw new ValueError('--target-labels is for file targets; a data set target brings its labels');
    let pool: { x: Float32Array; y: Int32Array };
    if (dsTarget.dataset === config.data.dataset && dsTarget.split === 'test' && testPool) pool = testPool;
    else if (dsTarget.dataset === config.data.dataset)
      pool = hostRows(dsTarget.split === 'test' ? data.test : data.train);
    else {
      const od = buildData(otherConfig(config, dsTarget.dataset), fashion);
      pool = hostRows(dsTarget.split === 'test' ? od.test : od.train);
    }
    const size = Math.min(o.targetSize ?? 2000, pool.y.length);
    const draw = drawTarget(spec, { features: pool.x, labels: pool.y, inputs, classes }, size, g);
    target = { x: rowsOf(pool.x, inputs, draw.indices), y: Int32Array.from(draw.indices, (i) => pool.y[i]) };
    targetText = `${dsTarget.dataset}:${dsTarget.split}, ${draw.indices.length} samples, ${shiftSpecName(spec)}`;
  } else {
    if (spec.kind !== 'none')
      throw new ValueError(
        `--shift applies to data set targets (e.g. --target test); ${o.target} is taken as it is`,
      );
    const input = readPredictInput(o.target, inputs);
    target = { x: Float32Array.from(input.x.readSync() as ArrayLike<number>) };
    if (o.targetLabels) {
      const idx = idxFromFileBytes(readFileSync(o.targetLabels), o.targetLabels);
      if (idx.shape.length !== 1 || idx.shape[0] !== input.names.length)
        throw new DataFormatError(
          `${o.targetLabels}: ${idx.shape[0]} labels for ${input.names.length} target samples`,
        );
      target.y = Int32Array.from(idx.data as ArrayLike<number>);
      for (const v of target.y)
        if (!(v >= 0 && v < classes))
          throw new DataFormatError(
            `${o.targetLabels}: label ${v} is outside the model's classes 0..${classes - 1}`,
          );
    }
    targetText = `${o.target}, ${input.names.length} samples${target.y ? ` (labels: ${o.targetLabels})` : ''}`;
  }
  log(`target: ${targetText}`);
  // 4. The analysis.
  const images = inputs >= 64;
  const analysis = await analyze(
    { features: scores(held.x, inputs), logits: logits(model, held.x, inputs), labels: held.y },
    { features: scores(target.x, inputs), logits: logits(model, target.x, inputs), labels: target.y },
    g,
    {
      sourcePriors,
      // Pixels: one shared scale and a small, strongly decayed step (see experiments/covariateShift.ts).
      classifier: images ? { epochs: 20, lr: 0.001, weightDecay: 1, standardize: 'global' } : undefined,
    },
  );
  // 5. Covariate-shift correction by retraining with importance weights.
  let retrained: ShiftCommandResult['retrained'];
  if (o.retrain) {
    if (!target.y) throw new ValueError('--retrain compares accuracies on the target: give --target-labels');
    log(`retraining the model with importance weights on ${trainRows.n} training rows`);
    const chunk = 5000;
    const w = new Float32Array(trainRows.n);
    for (let i = 0; i < trainRows.n; i += chunk) {
      const part = trainRows.x.subarray(i * inputs, Math.min(trainRows.n, i + chunk) * inputs);
      analysis.covariate.logRatio(scores(part, inputs)).forEach((v, j) => {
        w[i + j] = Math.exp(Math.min(v, 700));
      });
    }
    // Clip at 10× the mean and normalize, as the source rows' weights were.
    const m0 = w.reduce((a, b) => a + b, 0) / w.length;
    for (let i = 0; i < w.length; i++) w[i] = Math.min(w[i] / m0, 10);
    const m1 = w.reduce((a, b) => a + b, 0) / w.length;
    for (let i = 0; i < w.length; i++) w[i] /= m1;
    const gr = new Rng(config.seed);
    const weighted = buildModel(config, inputs, classes, gr);
    const optimizer = buildOptimizer(config, weighted);
    const train = new DataLoader(
      new TensorDataset(
        fromHost(trainRows.x, [trainRows.n, inputs], 'float32'),
        fromHost(trainRows.y, [trainRows.n], 'int32'),
        fromHost(w, [trainRows.n], 'float32'),
      ),
      { batchSize: config.data.batchSize, shuffle: true, generator: gr },
    );
    const sched = buildScheduler(config, optimizer, train.length);
    const callbacks: Callback[] = sched
      ? [schedulerStep(sched.scheduler, 'trainLoss', { per: sched.perBatch ? 'batch' : 'epoch' })]
      : [];
    await fit({
      model: weighted,
      optimizer,
      train,
      epochs: config.epochs,
      clipGradNorm: config.clipGradNorm,
      callbacks,
      progress: terminalProgress(log, o.tty),
      divergence: config.divergence,
      signal: o.signal,
    });
    const tl = new DataLoader(
      new TensorDataset(
        fromHost(target.x, [target.y.length, inputs], 'float32'),
        fromHost(target.y, [target.y.length], 'int32'),
      ),
      { batchSize: 2000 },
    );
    retrained = { uncorrected: evaluate(model, tl), weighted: evaluate(weighted, tl) };
  }
  // 6. The report.
  const names = classNames.length === classes ? classNames : FASHION_MNIST_CLASSES.slice(0, classes);
  const result = summarize(analysis, retrained);
  const settings = {
    model: o.checkpoint ? `loaded from ${loaded.path}` : `trained from the config (${run.dir}/source)`,
    config,
    target: targetText,
    shift: o.shift ?? 'none',
    targetSeed: o.targetSeed ?? 0,
    alpha: analysis.alpha,
  };
  run.writeConfig({ ...settings, environment: environmentInfo() });
  run.writeFile('result.json', `${JSON.stringify(result, null, 2)}\n`);
  const report = await run.writeReport(
    {
      title: `Distribution shift: ${analysis.shifted ? 'detected' : 'not detected'}`,
      subtitle: `keel shift — ${targetText}`,
      status: analysis.shifted
        ? { level: 'warning', text: verdictLine(analysis) }
        : { level: 'ok', text: verdictLine(analysis) },
      summary: [
        ...summaryRows(analysis, retrained),
        [
          'source model',
          o.checkpoint
            ? loaded.path
            : { text: 'trained here: source/report.html', href: 'source/report.html' },
        ],
      ],
      tables: tables(analysis, names),
      config: settings,
    },
    plots(analysis, names),
  );
  for (const line of [
    verdictLine(analysis),
    ...summaryRows(analysis, retrained).map(([k, v]) => `  ${k}: ${v}`),
  ])
    log(line);
  log(`report: ${report}`);
  return { analysis, report, dir: run.dir, target: targetText, retrained };
}

function verdictLine(a: ShiftAnalysis): string {
  const level = a.alpha / a.tests.length;
  const hits = a.tests.filter((t) => t.pValue < level);
  return a.shifted
    ? `Shift detected: ${hits.map((t) => `${t.test} p = ${formatNumber(t.pValue, 4)}`).join(', ')} < ${formatNumber(level, 4)} (α = ${a.alpha} over ${a.tests.length} tests).`
    : `No shift detected at α = ${a.alpha}: every p-value ≥ ${formatNumber(level, 4)} (${a.tests.map((t) => `${t.test} ${formatNumber(t.pValue, 3)}`).join(', ')}).`;
}

function summaryRows(a: ShiftAnalysis, r: ShiftCommandResult['retrained']): [string, string][] {
  const rows: [string, string][] = [
    ['samples', `${a.sizes.source} held-out source, ${a.sizes.target} target`],
    ['p-values', a.tests.map((t) => `${t.test} ${formatNumber(t.pValue, 4)}`).join(' · ')],
    [
      'estimated target priors vs source (EM+BCTS)',
      `${formatNumber(tv(a.sourcePriors, a.estimates.find((e) => e.method === 'EM+BCTS')?.priors ?? a.sourcePriors), 3)} total variation from the source priors`,
    ],
    [
      'importance weights',
      `effective sample size ${formatNumber(a.covariate.effectiveSampleSize, 0)} of ${a.covariate.rows}, largest ${formatNumber(a.covariate.max, 3)}`,
    ],
  ];
  if (a.estimates[0].tvError !== undefined)
    rows.push([
      'prior error (TV) with the true labels',
      a.estimates.map((e) => `${e.method} ${formatNumber(e.tvError ?? Number.NaN)}`).join(' · '),
    ]);
  if (a.accuracy)
    rows.push([
      'target accuracy',
      `${formatNumber(a.accuracy.uncorrected)} as trained → ${formatNumber(a.accuracy.emBcts)} corrected by EM+BCTS (BBSE ${formatNumber(a.accuracy.bbse)}, calibrated only ${formatNumber(a.accuracy.calibrated)})`,
    ]);
  if (r)
    rows.push([
      'retrained with importance weights',
      `target loss ${formatNumber(r.uncorrected.loss)} → ${formatNumber(r.weighted.loss)}, accuracy ${formatNumber(r.uncorrected.accuracy ?? Number.NaN)} → ${formatNumber(r.weighted.accuracy ?? Number.NaN)}`,
    ]);
  return rows;
}

function tv(p: readonly number[], q: readonly number[]): number {
  return p.reduce((s, v, i) => s + Math.abs(v - q[i]), 0) / 2;
}

function tables(a: ShiftAnalysis, names: readonly string[]) {
  return [
    {
      title: `Shift tests (verdict at α = ${a.alpha} / ${a.tests.length} each)`,
      header: [
        'test',
        'statistic',
        'p-value (smallest possible: 1/(1 + permutations))',
        'permutations',
        'shifted',
      ],
      rows: a.tests.map((t) => [
        t.test,
        formatNumber(t.statistic),
        formatNumber(t.pValue, 4),
        t.permutations,
        t.pValue < a.alpha / a.tests.length ? 'yes' : 'no',
      ]),
    },
    {
      title: 'Class priors: the source, each estimate of the target, and the target truth when known',
      header: [
        'class',
        'source',
        ...a.estimates.map((e) => e.method),
        ...(a.targetFrequencies ? ['target (true)'] : []),
      ],
      rows: a.sourcePriors.map((p, c) => [
        names[c] ?? `class ${c}`,
        formatNumber(p, 3),
        ...a.estimates.map((e) => formatNumber(e.priors[c], 3)),
        ...(a.targetFrequencies ? [formatNumber(a.targetFrequencies[c], 3)] : []),
      ]),
    },
  ];
}

function plots(a: ShiftAnalysis, names: readonly string[]) {
  const k = a.sourcePriors.length;
  const series = (label: string, p: readonly number[]): Point[] => p.map((y, x) => ({ x, y, series: label }));
  const pts: Point[] = [
    ...series('source', a.sourcePriors),
    ...a.estimates
      .filter((e) => e.method === 'EM+BCTS' || e.method === 'BBSE')
      .flatMap((e) => series(`${e.method} estimate`, e.priors)),
    ...(a.targetFrequencies ? series('target (true)', a.targetFrequencies) : []),
  ];
  return [
    linePlot(pts, {
      id: 'shift-priors',
      title: 'Class priors: source, estimated target, true target',
      xTitle: 'class',
      yTitle: 'prior',
      xTicks: Array.from({ length: k }, (_, i) => i),
      caption: names.map((n, i) => `${i} ${n}`).join(', '),
    }),
    histogramPlot(
      [
        {
          series: 'importance weights of the source rows',
          bins: binValues(a.covariate.weights.map(Math.log10), 30),
        },
      ],
      {
        id: 'shift-weights',
        title: `Importance weights p_target/p_source, mean 1 (ESS ${formatNumber(a.covariate.effectiveSampleSize, 0)} of ${a.covariate.rows})`,
        xTitle: 'log₁₀ weight',
      },
    ),
  ];
}

/** The JSON-able result (what --json prints and result.json holds). */
function summarize(a: ShiftAnalysis, r: ShiftCommandResult['retrained']) {
  return {
    shifted: a.shifted,
    alpha: a.alpha,
    tests: a.tests.map((t) => ({
      test: t.test,
      statistic: t.statistic,
      pValue: t.pValue,
      permutations: t.permutations,
    })),
    sourcePriors: a.sourcePriors,
    estimates: a.estimates.map((e) => ({
      method: e.method,
      priors: e.priors,
      weights: e.weights,
      tvError: e.tvError,
    })),
    targetFrequencies: a.targetFrequencies,
    importanceWeights: {
      effectiveSampleSize: a.covariate.effectiveSampleSize,
      rows: a.covariate.rows,
      max: a.covariate.max,
      clipped: a.covariate.clipped,
      calibration: a.covariate.calibration,
    },
    accuracy: a.accuracy,
    retrained: r,
    sizes: a.sizes,
  };
}

export { summarize as shiftResultJson };

/** The run's configuration with another data set (a target drawn from it). */
function otherConfig(config: RunConfig, dataset: string): RunConfig {
  return RunConfigSchema.parse({ ...config, data: { ...config.data, dataset } });
}
