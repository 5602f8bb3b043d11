/**
 * A training session of the lab, stepped from outside: the run a configuration describes (the same
 * RunConfig as `keel train`, built by the same code), advanced one optimizer step at a time, with
 * what the page draws — per-epoch train/validation/test loss and accuracy, the model's decision
 * surface on a grid (2-D sets), per-layer gradient norms and activation histograms with the
 * diagnostics' alarms, ‖w‖ and a histogram of the weights (L1's exact zeros counted), the
 * computational graph of one training step as DOT, and the bytes a training forward keeps for
 * backward against a prediction's. Platform-neutral: the Web Worker (worker.ts) drives it in the
 * browser, the tests in Node. Seeded: the same configuration gives the same numbers after the same
 * number of steps, however the steps were grouped. Each step is the one `fit` runs (TrainStep: a
 * compiled forward+backward, the divergence check, a compiled update), so the lab trains as keel
 * train does.
 */

import type { ImageSet } from '../../src/data/fashionMnist.js';
import { DataLoader } from '../../src/data/loader.js';
import { type Alarm, Diagnostics, formatAlarm } from '../../src/diagnostics/index.js';
import { noGrad, savedBytes, type Tensor, toDot, train as trainNs } from '../../src/index.js';
import { crossEntropy } from '../../src/nn/functional/loss.js';
import type { Sequential } from '../../src/nn/layers/containers.js';
import type { BaseOptions, Optimizer } from '../../src/optim/optimizer.js';
import type { LRScheduler } from '../../src/optim/schedulers.js';
import { binValues } from '../../src/report/bins.js';
import { buildData, buildModel, buildOptimizer, buildScheduler, type RunData } from '../../src/run/build.js';
import type { RunConfig } from '../../src/run/config.js';
import { fromHost } from '../../src/tensor/create.js';
import { type Divergence, DivergenceWatch } from '../../src/train/divergence.js';
import { lossesOf, TrainStep } from '../../src/train/step.js';
import { Rng } from '../../src/util/random.js';

/** One epoch's numbers. */
export interface EpochPoint {
  epoch: number;
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss: number;
  testAccuracy: number;
}

/** What the page draws between epochs. */
export interface Snapshot {
  step: number;
  epoch: number;
  /** The latest batch's loss. */
  loss: number;
  /** Probabilities on a grid×grid lattice over `extent`, row-major from the top-left, K per point (2-D sets). */
  surface?: { grid: number; classes: number; extent: [number, number, number, number]; probs: Float32Array };
  /** Fashion-MNIST: the test set's confusion matrix [true][predicted] and up to 24 misclassified images. */
  confusion?: number[][];
  mistakes?: { pixels: Uint8Array; label: number; predicted: number; probability: number }[];
  /** Gradient norm per weight matrix at the latest sampled step. */
  gradNorms: { name: string; norm: number | null }[];
  /** Layer outputs at the latest sampled step: a histogram each, with the fraction of dead/saturated units. */
  activations: { layer: string; edges: number[]; counts: number[]; dead?: number; saturated?: number }[];
  /** ‖w‖ over the weight matrices, their histogram, and how many weights are exactly 0. */
  weights: { norm: number; edges: number[]; counts: number[]; zeros: number; total: number };
}

/** Facts of a freshly built run. */
export interface RunInfo {
  parameters: number;
  layers: string[];
  /** One training step's graph (forward and loss) as DOT. */
  dot: string;
  /** Bytes kept for backward by a training forward of one batch, and by a prediction (none). */
  memory: { training: number; prediction: number; batch: number };
  /** The data as points (2-D sets): x, y, label, split. */
  points?: { x: Float32Array; y: Float32Array; label: Int32Array; split: Uint8Array };
  batchesPerEpoch: number;
  epochs: number;
}

/** The samples of a loader's dataset in order (without drawing from its generator). */
const inOrder = (loader: DataLoader) => new DataLoader(loader.dataset, { batchSize: 1000 });

/** Rows of a loader's dataset, on the host. */
function rows(loader: DataLoader): { x: Float32Array; y: Int32Array } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [x, y] of inOrder(loader)) {
    xs.push(...Array.from(x.readSync() as ArrayLike<number>));
    ys.push(...Array.from(y.readSync() as ArrayLike<number>));
  }
  return { x: Float32Array.from(xs), y: Int32Array.from(ys) };
}

/** A steppable training run. */
export class Session {
  readonly config: RunConfig;
  readonly info: RunInfo;
  readonly history: EpochPoint[] = [];
  readonly alarms: Alarm[] = [];
  step = 0;
  epoch = 1;
  lastLoss = Number.NaN;
  private readonly model: Sequential;
  private readonly optimizer: Optimizer<BaseOptions>;
  private readonly scheduler: { scheduler: LRScheduler; perBatch: boolean } | null;
  private readonly data: RunData;
  /** The training samples in order, for evaluation (the training loader shuffles with its own generator). */
  private readonly trainEval: DataLoader;
  private readonly diag: Diagnostics;
  private readonly watch: DivergenceWatch;
  private readonly trainStep: TrainStep;
  /** The epoch's order of the training samples (null between epochs). */
  private order: Int32Array | null = null;
  private batchInEpoch = 0;
  private epochLoss = 0;
  private epochSamples = 0;
  private extent: [number, number, number, number] | null;

  /** Fashion-MNIST images of this run (null for the 2-D sets). */
  private readonly images: { train: ImageSet; test: ImageSet } | null;

  constructor(
    config: RunConfig,
    onAlarm?: (a: Alarm) => void,
    fashion?: { train: ImageSet; test: ImageSet },
  ) {
    this.config = config;
    this.images = fashion ?? null;
    const g = new Rng(config.seed);
    this.data = buildData(config, this.images);
    this.trainEval = inOrder(this.data.train);
    this.model = buildModel(config, this.data.inputs, this.data.classes, g);
    this.optimizer = buildOptimizer(config, this.model);
    this.scheduler = buildScheduler(config, this.optimizer, this.data.train.length);
    this.watch = new DivergenceWatch(config.divergence);
    this.trainStep = new TrainStep({
      model: this.model,
      optimizer: this.optimizer,
      losses: lossesOf(this.lossFn),
      clipGradNorm: config.clipGradNorm,
      compile: config.compile,
      dataset: this.data.train.dataset,
      augment: this.data.train.transform ? (x) => this.data.train.augment(x) : undefined,
    });
    this.diag = new Diagnostics(this.model, {
      every: 10,
      onAlarm: (a) => {
        this.alarms.push(a);
        onAlarm?.(a);
      },
    });
    // Points for the plot and the extent of the decision surface (2-D sets).
    let points: RunInfo['points'];
    this.extent = null;
    if (this.data.inputs === 2) {
      const tr = rows(this.data.train);
      const te = rows(this.data.test);
      const va = this.data.validation
        ? rows(this.data.validation)
        : { x: new Float32Array(0), y: new Int32Array(0) };
      const n = (tr.y.length + va.y.length + te.y.length) | 0;
      const px = new Float32Array(n);
      const py = new Float32Array(n);
      const label = new Int32Array(n);
      const split = new Uint8Array(n);
      let i = 0;
      for (const [set, s] of [
        [tr, 0],
        [va, 1],
        [te, 2],
      ] as const)
        for (let r = 0; r < set.y.length; r++, i++) {
          px[i] = set.x[2 * r];
          py[i] = set.x[2 * r + 1];
          label[i] = set.y[r];
          split[i] = s;
        }
      let x0 = Math.min(...px);
      let x1 = Math.max(...px);
      let y0 = Math.min(...py);
      let y1 = Math.max(...py);
      const mx = 0.1 * (x1 - x0);
      const my = 0.1 * (y1 - y0);
      x0 -= mx;
      x1 += mx;
      y0 -= my;
      y1 += my;
      this.extent = [x0, x1, y0, y1];
      points = { x: px, y: py, label, split };
    }
    // One training step's graph and the memory it keeps, on the first batch of the training data
    // in order; the model's generator (dropout) is put back, so the run is the one keel train runs.
    const ident = Int32Array.from({ length: this.data.train.dataset.length }, (_, k) => k);
    const [bx, by] = this.data.train.batches(ident, 0, false).next().value as Tensor[];
    const saved = g.getState();
    this.model.train();
    const loss = crossEntropy(this.model.forward(bx), by, { labelSmoothing: config.labelSmoothing });
    const training = savedBytes(loss);
    const dot = toDot(loss);
    const prediction = noGrad(() => savedBytes(this.model.forward(bx)));
    this.info = {
      parameters: this.model.parameters().reduce((s, p) => s + p.size, 0),
      layers: this.model.layers.map((m) => `${m.constructor.name}(${m.extraRepr()})`),
      dot,
      memory: { training, prediction, batch: bx.shape[0] },
      points,
      batchesPerEpoch: this.data.train.length,
      epochs: config.epochs,
    };
    g.setState(saved);
  }

  /** Whether the configured number of epochs is done (or the loss went non-finite). */
  get finished(): boolean {
    return this.epoch > this.config.epochs || this.diverged;
  }

  /** The loss turned NaN/Inf or exploded: training stopped there, before that step's update. */
  get diverged(): boolean {
    return this.watch.divergence !== null;
  }

  /** Where and why the run diverged — the op that first made NaN/Inf, found by replaying the step in anomaly mode — as keel train says it. */
  get divergence(): Divergence | null {
    return this.watch.divergence;
  }

  /** The run's loss (cross-entropy with its label smoothing). */
  private readonly lossFn = (o: Tensor, t: Tensor) =>
    crossEntropy(o, t, { labelSmoothing: this.config.labelSmoothing });

  /** One optimizer step; returns the epoch's record when this step ended an epoch. */
  stepOnce(): EpochPoint | null {
    if (this.finished) return null;
    const loader = this.data.train;
    if (!this.order) {
      this.model.train();
      this.order = loader.order();
      this.batchInEpoch = 0;
      this.epochLoss = 0;
      this.epochSamples = 0;
    }
    const from = this.batchInEpoch * loader.batchSize;
    const indices = this.order.subarray(from, Math.min(loader.dataset.length, from + loader.batchSize));
    this.step++;
    this.diag.beginStep(this.epoch);
    // A step the diagnostics sample runs eagerly (their forward hooks read the layers' outputs).
    const raw = this.trainStep.gathers ? null : (loader.dataset.batch?.(indices) ?? null);
    const tensors = raw && [loader.augment(raw[0]), ...raw.slice(1)];
    if (tensors) this.trainStep.backwardOn(tensors, this.diag.sampling);
    else this.trainStep.backward(indices, this.diag.sampling);
    const loss = this.trainStep.readSums().loss / indices.length;
    this.lastLoss = loss;
    this.diag.afterBackward(loss);
    // As fit does: a NaN/Inf or exploded loss stops the run before its update, with the diagnosis.
    const at = { epoch: this.epoch, step: this.step, batch: this.batchInEpoch + 1 };
    const replay = () => {
      const [x, y] = tensors ?? this.trainStep.batch(indices);
      return { model: this.model, x, y, loss: this.lossFn };
    };
    if (this.watch.check(loss, at, replay)) return null;
    this.trainStep.update();
    this.diag.afterStep();
    if (this.scheduler?.perBatch) this.scheduler.scheduler.step();
    this.epochLoss += loss * indices.length;
    this.epochSamples += indices.length;
    this.batchInEpoch++;
    if (this.batchInEpoch < loader.length) return null;
    // The epoch is over: evaluate.
    this.order = null;
    const ev = (loader: DataLoader) => trainNs.evaluate(this.model, loader);
    const tr = ev(this.trainEval);
    const te = ev(this.data.test);
    const va = this.data.validation ? ev(this.data.validation) : undefined;
    const p: EpochPoint = {
      epoch: this.epoch,
      step: this.step,
      trainLoss: tr.loss,
      trainAccuracy: tr.accuracy ?? Number.NaN,
      valLoss: va?.loss,
      valAccuracy: va?.accuracy,
      testLoss: te.loss,
      testAccuracy: te.accuracy ?? Number.NaN,
    };
    this.history.push(p);
    this.diag.endEpoch({
      epoch: this.epoch,
      trainLoss: p.trainLoss,
      trainAccuracy: p.trainAccuracy,
      valLoss: p.valLoss ?? p.testLoss,
      valAccuracy: p.valAccuracy ?? p.testAccuracy,
      testLoss: p.testLoss,
      testAccuracy: p.testAccuracy,
      lr: this.optimizer.lr,
      seconds: 0,
      samplesPerSecond: 0,
    });
    if (this.scheduler && !this.scheduler.perBatch) this.scheduler.scheduler.step();
    this.epoch++;
    return p;
  }

  /** What the page draws now. */
  snapshot(grid = 64): Snapshot {
    const sample = this.diag.samples[this.diag.samples.length - 1];
    const gradNorms = sample
      ? Object.entries(sample.params)
          .filter(([name]) => name.endsWith('weight'))
          .map(([name, s]) => ({ name, norm: s.gradNorm }))
      : [];
    const activations = Object.entries(this.diag.histograms).map(([layer, vals]) => {
      const st = sample?.layers[layer];
      return { layer, ...binValues(vals, 24), dead: st?.dead, saturated: st?.saturated };
    });
    // ‖w‖ and the zeros over every weight; the histogram over at most ~20,000 of them.
    const mats = this.model.namedParameters().filter(([name, p]) => p.ndim >= 2 && name.endsWith('weight'));
    const total = mats.reduce((a, [, p]) => a + p.size, 0);
    const stride = Math.max(1, Math.floor(total / 20000));
    const ws: number[] = [];
    let sq = 0;
    let zeros = 0;
    for (const [, p] of mats) {
      const d = p.readSync() as ArrayLike<number>;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        sq += v * v;
        if (v === 0) zeros++;
        if (i % stride === 0) ws.push(v);
      }
    }
    const snap: Snapshot = {
      step: this.step,
      epoch: this.epoch,
      loss: this.lastLoss,
      gradNorms,
      activations,
      weights: { norm: Math.sqrt(sq), ...binValues(ws, 40), zeros, total },
    };
    if (this.images) Object.assign(snap, this.confusion());
    if (this.extent) {
      const [x0, x1, y0, y1] = this.extent;
      const pts = new Float32Array(grid * grid * 2);
      for (let r = 0; r < grid; r++)
        for (let c = 0; c < grid; c++) {
          const i = r * grid + c;
          pts[2 * i] = x0 + ((c + 0.5) / grid) * (x1 - x0);
          pts[2 * i + 1] = y1 - ((r + 0.5) / grid) * (y1 - y0);
        }
      const was = this.model.training;
      this.model.eval();
      const probs = noGrad(() => {
        const out = this.model.forward(fromHost(pts, [grid * grid, 2], 'float32'));
        const k = out.shape[1];
        const z = out.readSync() as ArrayLike<number>;
        const p = new Float32Array(z.length);
        for (let i = 0; i < grid * grid; i++) {
          let m = -Infinity;
          for (let j = 0; j < k; j++) m = Math.max(m, z[i * k + j]);
          let s = 0;
          for (let j = 0; j < k; j++) s += p[i * k + j] = Math.exp(z[i * k + j] - m);
          for (let j = 0; j < k; j++) p[i * k + j] /= s;
        }
        return p;
      });
      this.model.train(was);
      snap.surface = { grid, classes: this.data.classes, extent: this.extent, probs };
    }
    return snap;
  }

  /** The test set's confusion matrix and the most confident mistakes (Fashion-MNIST). */
  private confusion(): Pick<Snapshot, 'confusion' | 'mistakes'> {
    const test = this.images?.test;
    if (!test) return {};
    const was = this.model.training;
    this.model.eval();
    const k = this.data.classes;
    const z = noGrad(() => this.model.forward(test.images).readSync() as ArrayLike<number>);
    this.model.train(was);
    const y = test.labels.readSync() as ArrayLike<number>;
    const n = y.length;
    const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const wrong: { i: number; pred: number; p: number }[] = [];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + best]) best = j;
      m[y[i]][best]++;
      if (best !== y[i]) {
        let s = 0;
        for (let j = 0; j < k; j++) s += Math.exp(z[i * k + j] - z[i * k + best]);
        wrong.push({ i, pred: best, p: 1 / s });
      }
    }
    wrong.sort((a, b) => b.p - a.p);
    const pixels = this.data.inputs;
    const x = test.images.readSync() as ArrayLike<number>;
    const mistakes = wrong.slice(0, 24).map((w) => ({
      pixels: Uint8Array.from({ length: pixels }, (_, q) => Math.round(255 * x[w.i * pixels + q])),
      label: y[w.i],
      predicted: w.pred,
      probability: w.p,
    }));
    return { confusion: m, mistakes };
  }

  /** The run's weights as a PyTorch-named state dict (for the safetensors download). */
  stateDict(): Record<string, Tensor> {
    return this.model.stateDict();
  }

  /** Alarms as one line each. */
  alarmLines(): string[] {
    return this.alarms.map(formatAlarm);
  }
}
