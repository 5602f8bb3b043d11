/**
 * A shift analysis (`keel shift --config run.json | --checkpoint runs/<name> --target <file | data
 * set spec>`): is the target data shifted from what the model was trained on, how, and what would
 * correcting it give? The steps are the library's; this file gathers their inputs on Node:
 * - the model: trained from the config (a complete run in <run dir>/source/, with its own report and
 *   checkpoint; a config without a validation split gets 10% held out), or loaded from a run's
 *   checkpoint (which carries its configuration);
 * - the held-out labelled source data: the run's validation split (the same rows: the split is
 *   seeded by the config); a run without one uses half of its test split (the other half is then
 *   the pool a test-split target is drawn from, so the two never share images);
 * - the target (shift/target.ts): a file of inputs (predictInput.ts), or a data set split shifted on
 *   purpose;
 * - shift/analyze.ts: the three tests with a Bonferroni verdict, every label-shift estimator's
 *   priors, the importance weights with their ESS and, with target labels, the accuracy before and
 *   after post-hoc correction; `retrain` also trains the config's model again with importance
 *   weights on the training data (shift/retrain.ts) and compares target accuracy.
 * Writes <out>/<name>/ (config.json, result.json, report.html with plots: report/shift.ts) and logs
 * the verdict with the key numbers.
 */
import { FASHION_MNIST_CLASSES, type ImageSet } from '../../data/fashionMnist.js';
import type { DataLoader } from '../../data/loader.js';
import {
  type Retrained,
  shiftReport,
  shiftResultJson,
  shiftSummaryRows,
  shiftVerdict,
} from '../../report/shift.js';
import {
  buildData,
  buildModel,
  buildOptimizer,
  buildScheduler,
  dataShape,
  type RunData,
} from '../../run/build.js';
import { type RunConfig, RunConfigSchema } from '../../run/config.js';
import { analyze, type ShiftAnalysis } from '../../shift/analyze.js';
import { PIXEL_DOMAIN_CLASSIFIER } from '../../shift/domain.js';
import { shuffled } from '../../shift/generate.js';
import { frequencies, rowsAsScores, type Scores } from '../../shift/matrix.js';
import { modelLogits, targetComparison, trainingWeights, weightedLoader } from '../../shift/retrain.js';
import { drawTarget, parseDatasetTarget, parseShiftSpec, shiftSpecName } from '../../shift/target.js';
import { fromHost } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { schedulerStep } from '../../train/callbacks.js';
import { fit } from '../../train/fit.js';
import { ValueError } from '../../util/errors.js';
import { Rng } from '../../util/random.js';
import { loadCheckpointModel } from './checkpointModel.js';
import { loadFashion } from './fashionCache.js';
import { environmentInfo } from './info.js';
import { readInputLabels, readPredictInput } from './predictInput.js';
import { terminalProgress } from './progress.js';
import { RunDir } from './runDir.js';
import { runTraining } from './train.js';

/** Options of a shift analysis. */
export interface ShiftRunOptions {
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

/** What the analysis found, and where its report is. */
export interface ShiftRunResult {
  analysis: ShiftAnalysis;
  report: string;
  dir: string;
  /** The target's description. */
  target: string;
  retrained?: Retrained;
}

/** Labelled rows on the host: inputs as a float64 matrix, labels. */
interface Rows {
  x: Scores;
  y: Int32Array;
}

/** Row-major inputs (float32) and labels of a loader's batches; `labelsOnly` leaves x empty. */
function loaderRows(loader: DataLoader, labelsOnly = false): { x: Float32Array; y: Int32Array } {
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  for (const [x, y] of loader) {
    if (!labelsOnly) xs.push(Float32Array.from(x.readSync() as ArrayLike<number>));
    ys.push(Int32Array.from(y.readSync() as ArrayLike<number>));
  }
  const concat = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  return { x: concat(xs, (n) => new Float32Array(n)), y: concat(ys, (n) => new Int32Array(n)) };
}

/** A loader's rows as Scores with labels. */
function labelledRows(loader: DataLoader, inputs: number): Rows {
  const r = loaderRows(loader);
  return { x: rowsAsScores(r.x, inputs), y: r.y };
}

/** Rows `idx` of labelled rows. */
const pick = (r: Rows, idx: ArrayLike<number>): Rows => ({
  x: rowsAsScores(r.x.data, r.x.k, idx),
  y: Int32Array.from(idx, (i) => r.y[i]),
});

/** A host matrix as a float32 tensor (its values came from float32: the round trip is exact). */
const asTensor = (s: Scores): Tensor => fromHost(Float32Array.from(s.data), [s.n, s.k], 'float32');

/** The run's configuration with another data set (a target drawn from it). */
function otherConfig(config: RunConfig, dataset: string): RunConfig {
  return RunConfigSchema.parse({ ...config, data: { ...config.data, dataset } });
}

/** The source model: trained from the config into <run>/source, or loaded from a checkpoint. */
async function sourceModel(o: ShiftRunOptions, run: RunDir) {
  if (!o.config) return loadCheckpointModel(o.checkpoint as string);
  let config = o.config;
  if (config.data.validation === 0) {
    o.log(
      'keel shift: the config holds no validation split; 10% of the training data is held out as labelled source data',
    );
    config = RunConfigSchema.parse({ ...config, data: { ...config.data, validation: 0.1 } });
  }
  const trained = await runTraining(
    { ...config, name: 'source' },
    { out: run.dir, log: o.log, tty: o.tty, force: true, signal: o.signal, diagnostics: false },
  );
  if (trained.end.kind === 'diverged')
    throw new ValueError(`keel shift: the source model's training diverged; see ${trained.report}`);
  return loadCheckpointModel(trained.dir);
}

/**
 * The held-out labelled source rows: the validation split, else half of the test split (seeded by
 * the config), whose other half is returned as the pool a test-split target is drawn from.
 */
function heldOut(
  data: RunData,
  config: RunConfig,
  log: (l: string) => void,
): { held: Rows; testPool?: Rows } {
  if (data.validation) {
    const held = labelledRows(data.validation, data.inputs);
    log(`source: ${held.y.length} held-out labelled rows (the run's validation split)`);
    return { held };
  }
  const test = labelledRows(data.test, data.inputs);
  const order = shuffled(
    Array.from({ length: test.y.length }, (_, i) => i),
    new Rng(config.seed),
  );
  const h = order.slice(0, Math.floor(test.y.length / 2));
  log(
    `source: the run has no validation split; ${h.length} of its test rows are the held-out labelled source data`,
  );
  return { held: pick(test, h), testPool: pick(test, order.slice(h.length)) };
}

/** Runs the analysis (and the weighted retrain) and writes its run directory. */
export async function runShift(o: ShiftRunOptions): Promise<ShiftRunResult> {
  if (Boolean(o.config) === Boolean(o.checkpoint))
    throw new ValueError(
      'keel shift: give the model as --config <run.json> (trains it) or --checkpoint <run> (one of them)',
    );
  const spec = parseShiftSpec(o.shift ?? 'none');
  if (o.targetSize !== undefined && !(Number.isInteger(o.targetSize) && o.targetSize >= 10))
    throw new ValueError(`--target-size must be an integer ≥ 10, got ${o.targetSize}`);
  const run = new RunDir(o.out, o.name ?? (o.config ? `shift-${o.config.name}` : 'shift'), 'output');
  try {
    return await analyzeInto(run, o, spec);
  } finally {
    run.release();
  }
}

/** runShift's work once its run directory is open (and locked). */
async function analyzeInto(
  run: RunDir,
  o: ShiftRunOptions,
  spec: ReturnType<typeof parseShiftSpec>,
): Promise<ShiftRunResult> {
  const { log } = o;
  // 1. The source model.
  const loaded = await sourceModel(o, run);
  const { config, model } = loaded;
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
  const trainRows = loaderRows(data.train, !o.retrain);
  const sourcePriors = frequencies(trainRows.y, classes);
  const { held, testPool } = heldOut(data, config, log);
  // 3. The target.
  let target: { x: Scores; y?: Int32Array };
  let targetText: string;
  if (dsTarget) {
    if (o.targetLabels)
      throw new ValueError('--target-labels is for file targets; a data set target brings its labels');
    let pool: Rows;
    if (dsTarget.dataset === config.data.dataset && dsTarget.split === 'test' && testPool) pool = testPool;
    else {
      const d =
        dsTarget.dataset === config.data.dataset
          ? data
          : buildData(otherConfig(config, dsTarget.dataset), fashion);
      pool = labelledRows(dsTarget.split === 'test' ? d.test : d.train, inputs);
    }
    const size = Math.min(o.targetSize ?? 2000, pool.y.length);
    const draw = drawTarget(spec, { features: pool.x.data, labels: pool.y, inputs, classes }, size, g);
    target = pick(pool, draw.indices);
    targetText = `${dsTarget.dataset}:${dsTarget.split}, ${draw.indices.length} samples, ${shiftSpecName(spec)}`;
  } else {
    if (spec.kind !== 'none')
      throw new ValueError(
        `--shift applies to data set targets (e.g. --target test); ${o.target} is taken as it is`,
      );
    const input = await readPredictInput(o.target, inputs);
    const n = input.names.length;
    target = {
      x: rowsAsScores(Float32Array.from(input.x.readSync() as ArrayLike<number>), inputs),
      y: o.targetLabels ? readInputLabels(o.targetLabels, n, classes) : undefined,
    };
    targetText = `${o.target}, ${n} samples${target.y ? ` (labels: ${o.targetLabels})` : ''}`;
  }
  log(`target: ${targetText}`);
  // 4. The analysis.
  const analysis = await analyze(
    { features: held.x, logits: modelLogits(model, asTensor(held.x)), labels: held.y },
    { features: target.x, logits: modelLogits(model, asTensor(target.x)), labels: target.y },
    g,
    // Pixels: one shared scale and a small, strongly decayed step (shift/domain.ts).
    { sourcePriors, classifier: inputs >= 64 ? PIXEL_DOMAIN_CLASSIFIER : undefined },
  );
  // 5. Covariate-shift correction by retraining with importance weights.
  let retrained: Retrained | undefined;
  if (o.retrain) {
    if (!target.y) throw new ValueError('--retrain compares accuracies on the target: give --target-labels');
    const n = trainRows.y.length;
    log(`retraining the model with importance weights on ${n} training rows`);
    // Clipped at 10 like the held-out rows' weights, then normalized (covariate.ts says why that order).
    const { weights } = trainingWeights(analysis.covariate, trainRows.x, inputs, { clip: 10 });
    const gr = new Rng(config.seed);
    const weighted = buildModel(config, inputs, classes, gr);
    const optimizer = buildOptimizer(config, weighted);
    const train = weightedLoader(
      fromHost(trainRows.x, [n, inputs], 'float32'),
      fromHost(trainRows.y, [n], 'int32'),
      weights,
      { batchSize: config.data.batchSize, generator: gr },
    );
    const sched = buildScheduler(config, optimizer, train.length);
    await fit({
      model: weighted,
      optimizer,
      train,
      epochs: config.epochs,
      clipGradNorm: config.clipGradNorm,
      callbacks: sched
        ? [schedulerStep(sched.scheduler, 'trainLoss', { per: sched.perBatch ? 'batch' : 'epoch' })]
        : [],
      progress: terminalProgress(log, o.tty),
      divergence: config.divergence,
      signal: o.signal,
    });
    const t = Float32Array.from(target.x.data);
    retrained = targetComparison({ uncorrected: model, weighted }, { x: t, y: target.y, inputs });
  }
  // 6. The report.
  const names = classNames.length === classes ? classNames : FASHION_MNIST_CLASSES.slice(0, classes);
  const settings = {
    model: o.checkpoint ? `loaded from ${loaded.path}` : `trained from the config (${run.dir}/source)`,
    config,
    target: targetText,
    shift: o.shift ?? 'none',
    targetSeed: o.targetSeed ?? 0,
    alpha: analysis.alpha,
  };
  run.writeConfig({ ...settings, environment: environmentInfo() });
  run.writeFile('result.json', `${JSON.stringify(shiftResultJson(analysis, retrained), null, 2)}\n`);
  const report = await run.writeReport(
    shiftReport(analysis, retrained, {
      names,
      target: targetText,
      settings,
      sourceModel: o.checkpoint
        ? loaded.path
        : { text: 'trained here: source/report.html', href: 'source/report.html' },
    }),
  );
  for (const line of [
    shiftVerdict(analysis),
    ...shiftSummaryRows(analysis, retrained).map(([k, v]) => `  ${k}: ${v}`),
  ])
    log(line);
  log(`report: ${report}`);
  return { analysis, report, dir: run.dir, target: targetText, retrained };
}
