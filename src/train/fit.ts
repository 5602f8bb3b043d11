import { backend } from '../backend/registry.js';
import { compiledByDefault } from '../compile/compile.js';
import type { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import type { BaseOptions, Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { KeelError, ValueError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { yieldToEventLoop } from '../util/schedule.js';
import {
  CheckpointError,
  captureCheckpoint,
  type EpochProgress,
  type RunParts,
  type RunPosition,
  restoreCheckpoint,
  restoreGenerators,
  type TrainingCheckpoint,
} from './checkpoint.js';
import { type Divergence, type DivergenceOptions, DivergenceWatch } from './divergence.js';
import { Evaluator } from './evaluate.js';
import { EvaluateOptionsSchema, FitOptionsSchema } from './options.js';
import { lossesOf, type SampleLoss, TrainStep, unpackBatch } from './step.js';

export type { Divergence, DivergenceOptions } from './divergence.js';
export {
  type Losses,
  lossesOf,
  type SampleLoss,
  TrainStep,
  unpackBatch,
  weightedCrossEntropy,
} from './step.js';

/** What one epoch produced. Accuracies are present when labels are int32. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Learning rate of the first group during the epoch. */
  lr: number;
  seconds: number;
  samplesPerSecond: number;
}

/** Per-batch information given to callbacks and the progress sink. */
export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  /**
   * Mean loss of the batches since the previous read, when `read`; otherwise the latest value read
   * (with the default `readEvery: 1`, always this batch's loss).
   */
  loss: number;
  /** Whether this batch's loss was read to the host (every `readEvery` steps, the epoch's last batch). */
  read: boolean;
  samples: number;
}

/** Hooks into the loop; `onEpochEnd` may return 'stop'. */
export interface Callback {
  onTrainBegin?(ctx: FitContext): void;
  /** Before the forward pass of a batch (diagnostics switch on activation sampling here). */
  onBatchBegin?(info: { epoch: number; batch: number }, ctx: FitContext): void;
  /**
   * Asked after `onBatchBegin`: true when this callback reads the coming step's forward pass
   * through forward taps (`Module.registerForwardTap`, as diagnostics do), so the step runs a plan
   * traced with them — or forward hooks, with which that plan cannot be compiled and the observed
   * steps run eagerly. Everything else a callback reads — the loss and gradients in `onBackward`,
   * the weights after — it sees the same either way.
   */
  observesStep?(): boolean;
  /**
   * After backward, before clipping and the optimizer step: gradients are in `.grad`. `loss` is the
   * batch's loss tensor, detached; reading it (`item()`) syncs with the backend.
   */
  onBackward?(loss: Tensor, ctx: FitContext): void;
  /** After every optimizer step (per-batch schedulers such as OneCycleLR step here). */
  onStep?(ctx: FitContext): void;
  onBatchEnd?(info: BatchInfo, ctx: FitContext): void;
  // biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing goes on.
  /** May be async (fit awaits it): e.g. to read tensors on a GPU backend, which reads asynchronously. */
  onEpochEnd?(record: EpochRecord, ctx: FitContext): void | 'stop' | Promise<void | 'stop'>;
  onTrainEnd?(history: History, ctx: FitContext): void;
  /** What this callback must keep across a checkpoint and resume (e.g. a scheduler's position). */
  stateDict?(): CallbackState;
  /** Restores what `stateDict` returned, when `fit` resumes from a checkpoint. */
  loadStateDict?(state: CallbackState): void;
}

/** A callback's state in a checkpoint: JSON-safe values (non-finite numbers allowed) and tensors. */
export interface CallbackState {
  values?: unknown;
  tensors?: Record<string, Tensor>;
}

/** Receives progress (the CLI implements a bar or log lines). */
export interface ProgressSink {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(info: BatchInfo): void;
  epochEnd(record: EpochRecord): void;
}

/** What callbacks can see. */
export interface FitContext {
  model: Module;
  optimizer: Optimizer<BaseOptions>;
  history: History;
}

/** The result of `fit`. */
export interface History {
  epochs: EpochRecord[];
  /** True when training ended before `epochs` (a callback said 'stop', or the loss diverged). */
  stoppedEarly: boolean;
  /** Why training ended early, when it did. */
  stopReason?: 'callback' | 'diverged';
  /** The first divergence of the loss (also with `onNonFinite: 'continue'`, where training went on). */
  divergence?: Divergence;
  /** Why parts of the training step ran eagerly although compiled steps were asked for. */
  eagerReasons?: string[];
}

/** `fit` was aborted through its signal; `history` holds the epochs completed before. */
export class InterruptedError extends KeelError {
  constructor(
    readonly history: History,
    readonly reason: unknown,
    readonly at: { epoch: number; step: number },
  ) {
    super(
      `training interrupted at epoch ${at.epoch}, step ${at.step}${reason instanceof Error ? '' : reason === undefined ? '' : ` (${String(reason)})`}`,
    );
  }
}

/** Options of `fit`. */
export interface FitOptions {
  model: Module;
  optimizer: Optimizer<BaseOptions>;
  train: DataLoader;
  epochs: number;
  /** Loss of (output, target); default cross-entropy from logits. */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  /**
   * The loss when the datasets' samples carry a third tensor — one float weight per sample, e.g.
   * importance weights under covariate shift: (output, target, weights). Default: cross-entropy with
   * each sample's term weighted (`crossEntropy`'s `sampleWeights`). Weighted data with only `loss`
   * given is refused (the weights would be dropped silently). Accuracies stay unweighted.
   */
  weightedLoss?: SampleLoss;
  validation?: DataLoader;
  test?: DataLoader;
  callbacks?: Callback[];
  /** Clip the total gradient norm to this value before each step. */
  clipGradNorm?: number;
  /** Where progress goes (the CLI's bar or lines); false or left out: nowhere. */
  progress?: ProgressSink | false;
  /** What to do when the loss diverges (default: stop at the first NaN/Inf or exploded loss). */
  divergence?: DivergenceOptions;
  /** Aborting it stops training between two steps: `fit` rejects with an `InterruptedError`. */
  signal?: AbortSignal;
  /**
   * Run each training step as a compiled plan (default true, unless `setCompiledByDefault(false)`
   * or keel --eager; see `compile`): the same results as eager steps, faster. Steps a callback
   * observes (`observesStep`) run plans of their own; what cannot be compiled runs eagerly and
   * `History.eagerReasons` says why. A loss or callback that reads JS values which change from step
   * to step inside the step (a counter in the loss function) needs `compile: false`: a plan fixes
   * such values when it is traced.
   */
  compile?: boolean;
  /**
   * Steps between reads of the loss and accuracy to the host (default 1). Between reads they are
   * summed on the backend. A divergence is then caught at the next read, up to `readEvery − 1`
   * steps after it happened (the parameters may already hold NaN by then).
   */
  readEvery?: number;
  /**
   * Checkpoints handed to `save` (the CLI writes them atomically to a file): every `every` epochs
   * (default 1), every `minutes` inside an epoch too when given, and at the end. Each holds the
   * whole run's state (see train/checkpoint.ts).
   */
  checkpoint?: CheckpointOptions;
  /**
   * Continues the run a checkpoint was taken from. The model, optimizer, callbacks (same ones, same
   * order), loaders and `epochs` must be built as for the original run; it then ends bit-identical
   * to the run that was never interrupted (same backend).
   */
  resume?: TrainingCheckpoint;
}

/** When `fit` hands checkpoints out, and to whom. */
export interface CheckpointOptions {
  save(checkpoint: TrainingCheckpoint): void | Promise<void>;
  every?: number;
  minutes?: number;
}

/**
 * How often `fit` lets the event loop run, in milliseconds: signals, timers and messages are handled
 * then, and so are the finalizers that hand dead tensors' buffers back to the host pool (backend/
 * host.ts); 10 ms recycles markedly more buffers than 50 (bench/NOTES.md).
 */
const YIELD_MS = 10;

/**
 * On a backend whose memory is read asynchronously (a GPU), copies what it wrote in place —
 * parameters, optimizer state — to the host, so the epoch's callbacks and checkpoints can read
 * them synchronously (Backend.sync); nothing to do on host memory.
 */
const syncHost = (): Promise<void> => backend().sync?.() ?? Promise.resolve();

/** Loss and accuracy of `model` over a loader, in eval mode without gradients (compiled batches). */
export function evaluate(
  model: Module,
  loader: DataLoader,
  loss?: (o: Tensor, t: Tensor) => Tensor,
  weightedLoss?: SampleLoss,
  opts: { compile?: boolean } = {},
): { loss: number; accuracy?: number } {
  checkOptions('evaluate', EvaluateOptionsSchema, opts);
  return new Evaluator(model, lossesOf(loss, weightedLoss), opts.compile ?? compiledByDefault()).run(loader);
}

/** Trains `model` and returns the per-epoch history. */
export async function fit(options: FitOptions): Promise<History> {
  checkOptions('fit', FitOptionsSchema, options);
  const opts = { ...options, progress: options.progress || undefined }; // false: no progress
  const { model, optimizer, train, epochs, signal } = opts;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new ValueError(`fit: epochs must be a non-negative integer, got ${epochs}`);
  const readEvery = opts.readEvery ?? 1;
  if (!Number.isInteger(readEvery) || readEvery < 1)
    throw new ValueError(
      `fit: readEvery must be a positive integer (steps between loss reads), got ${readEvery}`,
    );
  const saving = opts.checkpoint;
  const every = saving?.every ?? 1;
  if (saving) {
    if (!Number.isInteger(every) || every < 1)
      throw new ValueError(`fit: checkpoint.every must be a positive integer (epochs), got ${saving.every}`);
    if (saving.minutes !== undefined && !(saving.minutes > 0))
      throw new ValueError(`fit: checkpoint.minutes must be a positive number, got ${saving.minutes}`);
  }
  const losses = lossesOf(opts.loss, opts.weightedLoss);
  const compiled = opts.compile ?? compiledByDefault();
  const trainStep = new TrainStep({
    model,
    optimizer,
    losses,
    clipGradNorm: opts.clipGradNorm,
    compile: compiled,
    dataset: train.dataset,
    augment: train.transform ? (x) => train.augment(x) : undefined,
  });
  const evaluator = new Evaluator(model, losses, compiled);
  const callbacks = opts.callbacks ?? [];
  const watch = new DivergenceWatch(opts.divergence);
  const history: History = { epochs: [], stoppedEarly: false };
  const ctx: FitContext = { model, optimizer, history };
  const parts: RunParts = {
    model,
    optimizer,
    callbacks,
    watch,
    loaders: { train, validation: opts.validation, test: opts.test },
  };
  let step = 0;
  let epoch = 0;
  let startEpoch = 1;
  let startBatch = 0;
  const resume = opts.resume;
  if (resume) {
    if (resume.state.epochs !== epochs)
      throw new CheckpointError(
        `fit: the checkpoint is of a ${resume.state.epochs}-epoch run, this one has ${epochs} epochs (resume with the same settings)`,
      );
    history.epochs.push(...restoreCheckpoint(resume, parts).epochs);
    ({ epoch: startEpoch, batch: startBatch, step } = resume.state.position);
    if (resume.state.stopReason) {
      history.stoppedEarly = true;
      history.stopReason = resume.state.stopReason;
    }
  }
  let lastSave = performance.now();
  const save = async (position: RunPosition, progress: EpochProgress | null) => {
    if (!saving) return;
    await syncHost();
    const stopReason = history.stopReason ?? null;
    await saving.save(captureCheckpoint(parts, { epochs, position, epoch: progress, history, stopReason }));
    lastSave = performance.now();
  };
  let lastYield = performance.now();
  const pause = async () => {
    if (performance.now() - lastYield >= YIELD_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (signal?.aborted) throw new InterruptedError(history, signal.reason, { epoch, step });
  };
  for (const c of callbacks) c.onTrainBegin?.(ctx);
  loop: for (epoch = startEpoch; epoch <= epochs; epoch++) {
    await pause();
    model.train();
    const t0 = performance.now();
    const first = epoch === startEpoch ? startBatch : 0;
    let progress: EpochProgress;
    let order: Int32Array;
    if (first > 0 && resume?.state.epoch) {
      // Inside an epoch: draw its order again from the loader's state when it began, then put every
      // generator back where the checkpoint found it.
      const p = resume.state.epoch;
      train.generator.setState(p.loaderState);
      order = train.order();
      restoreGenerators(resume, parts);
      progress = { ...p, loaderState: [...p.loaderState] };
    } else {
      progress = {
        loaderState: train.generator.getState(),
        lr: optimizer.lr,
        total: 0,
        correct: 0,
        samples: 0,
        classes: true,
      };
      order = train.order();
    }
    const resumedSamples = progress.samples;
    let batch = first;
    // Σ loss·batch and Σ correct of the steps since the last read stay on the backend (TrainStep).
    let pendingSamples = 0;
    let pendingSteps = 0;
    let lastLoss = Number.NaN;
    opts.progress?.epochStart(epoch, epochs, train.length);
    // Batches by index (gathered inside the step) for data sets of tensor rows, else the loader's.
    const tensorBatches = trainStep.gathers ? null : train.batches(order, first);
    const rows = train.dataset.length;
    for (; batch < train.length; ) {
      const from = batch * train.batchSize;
      const indices = order.subarray(from, Math.min(rows, from + train.batchSize));
      let tensors: Tensor[] | null = null;
      if (tensorBatches) {
        const next = tensorBatches.next();
        if (next.done) break;
        tensors = next.value;
      }
      await pause();
      step++;
      for (const c of callbacks) c.onBatchBegin?.({ epoch, batch: batch + 1 }, ctx);
      let observed = false;
      for (const c of callbacks) if (c.observesStep?.()) observed = true;
      const lt = tensors ? trainStep.backwardOn(tensors, observed) : trainStep.backward(indices, observed);
      for (const c of callbacks) c.onBackward?.(lt, ctx);
      const b = tensors ? tensors[0].shape[0] : indices.length;
      pendingSamples += b;
      pendingSteps++;
      const read = pendingSteps >= readEvery || batch + 1 >= train.length;
      if (read) {
        const sums = await trainStep.readSumsAsync();
        lastLoss = sums.loss / pendingSamples;
        progress.total += sums.loss;
        progress.correct += sums.correct;
        if (!sums.classes) progress.classes = false;
        pendingSamples = 0;
        pendingSteps = 0;
        const replay = () => {
          const { x, y, bound } = unpackBatch(tensors ?? trainStep.batch(indices), losses, 'training');
          return { model, x, y, loss: bound };
        };
        if (watch.check(lastLoss, { epoch, step, batch: batch + 1 }, replay)) {
          history.stoppedEarly = true;
          history.stopReason = 'diverged';
          break loop;
        }
      }
      trainStep.update();
      for (const c of callbacks) c.onStep?.(ctx);
      progress.samples += b;
      batch++;
      const info: BatchInfo = {
        epoch,
        batch,
        batches: train.length,
        loss: lastLoss,
        read,
        samples: progress.samples,
      };
      opts.progress?.batch(info);
      for (const c of callbacks) c.onBatchEnd?.(info, ctx);
      if (
        saving?.minutes !== undefined &&
        pendingSteps === 0 &&
        batch < train.length &&
        performance.now() - lastSave >= saving.minutes * 60_000
      )
        await save({ epoch, batch, step }, progress);
    }
    if (pendingSteps > 0) {
      // A loader that yielded fewer batches than its length: fold in what was not read yet.
      const sums = await trainStep.readSumsAsync();
      progress.total += sums.loss;
      progress.correct += sums.correct;
    }
    const seconds = (performance.now() - t0) / 1000;
    const n = progress.samples;
    const record: EpochRecord = {
      epoch,
      trainLoss: progress.total / Math.max(n, 1),
      lr: progress.lr,
      seconds,
      samplesPerSecond: (n - resumedSamples) / Math.max(seconds, 1e-9),
    };
    if (progress.classes) record.trainAccuracy = progress.correct / Math.max(n, 1);
    if (opts.validation) {
      const v = await evaluator.runAsync(opts.validation);
      record.valLoss = v.loss;
      if (v.accuracy !== undefined) record.valAccuracy = v.accuracy;
    }
    if (opts.test) {
      const t = await evaluator.runAsync(opts.test);
      record.testLoss = t.loss;
      if (t.accuracy !== undefined) record.testAccuracy = t.accuracy;
    }
    await syncHost();
    history.epochs.push(record);
    opts.progress?.epochEnd(record);
    let stop = false;
    for (const c of callbacks) if ((await c.onEpochEnd?.(record, ctx)) === 'stop') stop = true;
    if (stop) {
      history.stoppedEarly = epoch < epochs;
      if (history.stoppedEarly) history.stopReason = 'callback';
      break;
    }
    if (epoch % every === 0 && epoch < epochs) await save({ epoch: epoch + 1, batch: 0, step }, null);
  }
  if (watch.divergence) history.divergence = watch.divergence;
  if (trainStep.eagerReasons.length) history.eagerReasons = [...trainStep.eagerReasons];
  await syncHost();
  for (const c of callbacks) c.onTrainEnd?.(history, ctx);
  // The final checkpoint: the run is over (complete or stopped), so resuming it trains no more.
  await save({ epoch: epochs + 1, batch: 0, step }, null);
  return history;
}
