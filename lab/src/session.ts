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
 *
 * On a backend whose memory is read asynchronously (webgpu, `asyncMemory`) the worker steps with
 * `stepOnceAsync` and draws `snapshotAsync`: the same run, with the loss and the evaluations
 * awaited; the data sets stay in host memory (the compiled steps upload them once), and the
 * diagnostics — which read activations and gradients synchronously — are off.
 */

import { backend, hostBackend, withBackend } from '../../src/backend/registry.js';
import type { Backend } from '../../src/backend/types.js';
import { installedGemmThreads } from '../../src/backend/wasm/threads.js';
import { adapterName } from '../../src/backend/webgpu/device.js';
import type { GpuAdapterFacts } from '../../src/backend/webgpu/gpu.js';
import type { ImageSet } from '../../src/data/fashionMnist.js';
import { DataLoader } from '../../src/data/loader.js';
import { type Alarm, Diagnostics, formatAlarm } from '../../src/diagnostics/index.js';
import { noGrad, savedBytes, type Tensor, toDot } from '../../src/index.js';
import { crossEntropy } from '../../src/nn/functional/loss.js';
import type { Sequential } from '../../src/nn/layers/containers.js';
import type { BaseOptions, Optimizer } from '../../src/optim/optimizer.js';
import type { LRScheduler } from '../../src/optim/schedulers.js';
import { binValues } from '../../src/report/bins.js';
import { buildData, buildModel, buildOptimizer, buildScheduler, type RunData } from '../../src/run/build.js';
import type { RunConfig } from '../../src/run/config.js';
import { fromHost } from '../../src/tensor/create.js';
import { HostCopies } from '../../src/tensor/hostCopies.js';
import { type Divergence, DivergenceWatch } from '../../src/train/divergence.js';
import { Evaluator } from '../../src/train/evaluate.js';
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
  /** What trains: the backend in a few words (the page says it). */
  backend: string;
}

/** A loss (and accuracy) over a loader. */
type Evaluation = { loss: number; accuracy?: number };

/** The CPU backend the data sets live on when a GPU trains. */

/** What trains, in a few words (the page's header says it). */
function describeBackend(): string {
  const b = backend() as Backend & { adapter?: GpuAdapterFacts | null };
  if (b.adapter) return `WebGPU on ${adapterName(b.adapter)}`;
  if (b.name !== 'wasm') return `the ${b.name} backend on the CPU`;
  const threads = installedGemmThreads();
  return threads > 1 ? `WebAssembly on the CPU, ${threads} threads` : 'WebAssembly on the CPU';
}

/** What a snapshot computes afresh. */
export interface SnapshotOptions {
  /**
   * Forward the test images for the confusion matrix and the mistakes (Fashion-MNIST; default true);
   * false shows the latest ones again — a forward of 1,000 images costs as much as ~20 training steps.
   */
  predictions?: boolean;
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
  /** True on a backend whose memory is read asynchronously (webgpu): step with `stepOnceAsync`. */
  readonly asyncMemory: boolean;
  /** Evaluates at the end of an epoch on such a backend (its sums read once, awaited). */
  private readonly evaluator: Evaluator;

  /** Fashion-MNIST images of this run (null for the 2-D sets). */
  private readonly images: { train: ImageSet; test: ImageSet } | null;
  /** The test labels on the host, read once (the confusion matrix needs them at every snapshot). */
  private testLabels: ArrayLike<number> | null = null;
  /** The latest confusion matrix and mistakes, shown by snapshots that skip the test images' forward. */
  private predictions: Pick<Snapshot, 'confusion' | 'mistakes'> | null = null;
  /** Host copies of the weights the snapshots read, reused (no fresh array every 120 ms). */
  private readonly copies = new HostCopies();

  constructor(
    config: RunConfig,
    onAlarm?: (a: Alarm) => void,
    fashion?: { train: ImageSet; test: ImageSet },
  ) {
    this.config = config;
    this.images = fashion ?? null;
    const g = new Rng(config.seed);
    this.asyncMemory = backend().sync !== undefined;
    // The data sets live in host memory (the points and images the page draws are read from them).
    const onHost = <T>(f: () => T): T => (this.asyncMemory ? withBackend(hostBackend(), f) : f());
    this.data = onHost(() => buildData(config, this.images));
    this.trainEval = inOrder(this.data.train);
    this.model = buildModel(config, this.data.inputs, this.data.classes, g);
    this.optimizer = buildOptimizer(config, this.model);
    this.scheduler = buildScheduler(config, this.optimizer, this.data.train.length);
    this.watch = new DivergenceWatch(config.divergence);
    this.evaluator = new Evaluator(this.model, lossesOf(), config.compile);
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
      const tr = onHost(() => rows(this.data.train));
      const te = onHost(() => rows(this.data.test));
      const va = this.data.validation
        ? onHost(() => rows(this.data.validation as DataLoader))
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
      backend: describeBackend(),
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
    const s = this.beginStep();
    if (!s) return null;
    if (!this.endStep(s, this.trainStep.readSums().loss / s.indices.length)) return null;
    // One evaluator for the session: its compiled plans are traced once, not at every epoch.
    const ev = (loader: DataLoader) => this.evaluator.run(loader);
    return this.endEpoch(
      ev(this.trainEval),
      ev(this.data.test),
      this.data.validation && ev(this.data.validation),
    );
  }

  /** The same on a backend whose memory is read asynchronously (webgpu): the reads are awaited. */
  async stepOnceAsync(): Promise<EpochPoint | null> {
    const s = this.beginStep();
    if (!s) return null;
    const sums = await this.trainStep.readSumsAsync();
    if (!this.endStep(s, sums.loss / s.indices.length)) return null;
    const ev = (loader: DataLoader) => this.evaluator.runAsync(loader);
    const tr = await ev(this.trainEval);
    const te = await ev(this.data.test);
    return this.endEpoch(tr, te, this.data.validation && (await ev(this.data.validation)));
  }

  /** A step up to its loss: the batch's forward and backward (null once finished). */
  private beginStep(): { indices: Int32Array; tensors: Tensor[] | null } | null {
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
    if (!this.asyncMemory) this.diag.beginStep(this.epoch);
    // A step the diagnostics sample runs the observed plan (traced with their forward taps, which read the layers' outputs).
    const sampled = !this.asyncMemory && this.diag.sampling;
    const raw = this.trainStep.gathers ? null : (loader.dataset.batch?.(indices) ?? null);
    const tensors = raw && [loader.augment(raw[0]), ...raw.slice(1)];
    if (tensors) this.trainStep.backwardOn(tensors, sampled);
    else this.trainStep.backward(indices, sampled);
    return { indices, tensors };
  }

  /** The rest of the step, given its loss; true when it ended an epoch (not when it diverged). */
  private endStep(s: { indices: Int32Array; tensors: Tensor[] | null }, loss: number): boolean {
    const { indices, tensors } = s;
    this.lastLoss = loss;
    if (!this.asyncMemory) this.diag.afterBackward(loss);
    // As fit does: a NaN/Inf or exploded loss stops the run before its update, with the diagnosis.
    const at = { epoch: this.epoch, step: this.step, batch: this.batchInEpoch + 1 };
    const replay = () => {
      const [x, y] = tensors ?? this.trainStep.batch(indices);
      return { model: this.model, x, y, loss: this.lossFn };
    };
    if (this.watch.check(loss, at, replay)) return false;
    this.trainStep.update();
    if (!this.asyncMemory) this.diag.afterStep();
    if (this.scheduler?.perBatch) this.scheduler.scheduler.step();
    this.epochLoss += loss * indices.length;
    this.epochSamples += indices.length;
    this.batchInEpoch++;
    return this.batchInEpoch >= this.data.train.length;
  }

  /** The epoch is over: its record from the evaluations (train, test, validation). */
  private endEpoch(tr: Evaluation, te: Evaluation, va: Evaluation | undefined): EpochPoint {
    this.order = null;
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
  snapshot(grid = 64, opts: SnapshotOptions = {}): Snapshot {
    const f = this.forwards(grid, opts.predictions ?? true);
    return this.snapshotFrom(grid, f.surface?.readSync(), f.test?.readSync());
  }

  /**
   * The same on a backend whose memory is read asynchronously (webgpu): the parameters are copied
   * to the host first (Backend.sync) and the model's outputs are read with `await`.
   */
  async snapshotAsync(grid = 64, opts: SnapshotOptions = {}): Promise<Snapshot> {
    await backend().sync?.();
    const f = this.forwards(grid, opts.predictions ?? true);
    const [surface, test] = await Promise.all([f.surface?.read(), f.test?.read()]);
    return this.snapshotFrom(grid, surface, test);
  }

  /** The model's outputs the page draws (eval mode): on the surface's grid, on the test images. */
  private forwards(grid: number, predictions: boolean): { surface?: Tensor; test?: Tensor } {
    const was = this.model.training;
    this.model.eval();
    const out = noGrad(() => {
      const r: { surface?: Tensor; test?: Tensor } = {};
      if (this.extent) {
        const [x0, x1, y0, y1] = this.extent;
        const pts = new Float32Array(grid * grid * 2);
        for (let row = 0; row < grid; row++)
          for (let c = 0; c < grid; c++) {
            const i = row * grid + c;
            pts[2 * i] = x0 + ((c + 0.5) / grid) * (x1 - x0);
            pts[2 * i + 1] = y1 - ((row + 0.5) / grid) * (y1 - y0);
          }
        r.surface = this.model.forward(fromHost(pts, [grid * grid, 2], 'float32'));
      }
      if (this.images && predictions) r.test = this.model.forward(this.images.test.images);
      return r;
    });
    this.model.train(was);
    return out;
  }

  /** The snapshot from the outputs of `forwards`, read to the host. */
  private snapshotFrom(grid: number, surface?: ArrayLike<number>, test?: ArrayLike<number>): Snapshot {
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
    for (const [name, p] of mats) {
      const d = this.copies.read(name, p);
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
    if (this.images && test) this.predictions = this.confusion(test);
    if (this.predictions) Object.assign(snap, this.predictions);
    if (this.extent && surface) {
      const k = this.data.classes;
      const p = new Float32Array(surface.length);
      for (let i = 0; i < grid * grid; i++) {
        let m = -Infinity;
        for (let j = 0; j < k; j++) m = Math.max(m, surface[i * k + j]);
        let s = 0;
        for (let j = 0; j < k; j++) s += p[i * k + j] = Math.exp(surface[i * k + j] - m);
        for (let j = 0; j < k; j++) p[i * k + j] /= s;
      }
      snap.surface = { grid, classes: k, extent: this.extent, probs: p };
    }
    return snap;
  }

  /** The test set's confusion matrix and the most confident mistakes (Fashion-MNIST), from its logits. */
  private confusion(z: ArrayLike<number>): Pick<Snapshot, 'confusion' | 'mistakes'> {
    const test = this.images?.test;
    if (!test) return {};
    const k = this.data.classes;
    this.testLabels ??= test.labels.readSync();
    const y = this.testLabels;
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
    // Only the shown images' rows are read: the bytes where the set has them, else from the floats.
    const row = (i: number): Uint8Array => {
      if (test.pixels) return test.pixels.narrow(0, i, 1).readSync() as Uint8Array;
      const x = test.images.narrow(0, i, 1).readSync();
      return Uint8Array.from(x, (v) => Math.round(255 * v));
    };
    const mistakes = wrong.slice(0, 24).map((w) => ({
      pixels: row(w.i),
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
