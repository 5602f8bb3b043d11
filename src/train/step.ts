/**
 * One training step as `fit` and the lab run it. `backward` takes a batch — rows of the data set's
 * tensors gathered by index (inside the step), or given tensors — and runs forward, loss and
 * backward, adding the batch's loss × size and correct count to running sums on the backend and
 * leaving the gradients in tensors the step owns. Then, after whatever reads the loss or the
 * gradients (callbacks, the divergence check: a diverged step is never applied), `update` clips the
 * gradients and steps the optimizer. `readSums` reads the sums (one host read) and zeroes them.
 * A training transform (`augment`) perturbs the gathered inputs inside the step.
 *
 * Compiled by default (`compile`): two plans, forward+backward and the update, replayed every step;
 * a step a callback observes (`observed`: diagnostics' forward taps on) runs forward+backward plans
 * of its own, traced with the taps, which replay them (autograd/taps.ts). What cannot be compiled (a
 * custom optimizer reading gradients on the host, a loss that reads values, a forward hook) runs
 * eagerly, and `eagerReasons` says why; the results are the same either way.
 */
import { noGrad } from '../autograd/mode.js';
import { type CompiledFunction, compile, compiledByDefault } from '../compile/compile.js';
import { type Dataset, RowIndex, rowsOf, type TensorRows, tensorRows } from '../data/dataset.js';
import { crossEntropy } from '../nn/functional/loss.js';
import type { Module } from '../nn/module.js';
import { add, cast, mul } from '../ops/elementwise.js';
import { copy_ } from '../ops/inplace.js';
import { stack } from '../ops/shape.js';
import { clipGradNormTensor_ } from '../optim/clip.js';
import type { BaseOptions, Optimizer } from '../optim/optimizer.js';
import { fromHost, zeros, zerosLike } from '../tensor/create.js';
import { peekGrad, type Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { countCorrect } from './metrics.js';
import { TrainStepOptionsSchema } from './options.js';

/** A loss of (output, target) and, when the data carry them, per-sample weights. */
export type SampleLoss = (output: Tensor, target: Tensor, weights?: Tensor) => Tensor;

/** Cross-entropy from logits, each sample's term weighted when weights are given. */
export const weightedCrossEntropy: SampleLoss = (o, t, w) =>
  crossEntropy(o, t, w ? { sampleWeights: w } : {});

/** The losses of a training: for plain batches and for batches with per-sample weights. */
export interface Losses {
  plain: (output: Tensor, target: Tensor) => Tensor;
  /** Null when only a plain loss was given (weighted data are then refused). */
  weighted: SampleLoss | null;
}

/** The losses from `fit`'s options: a plain loss, a weighted one, or cross-entropy for both. */
export function lossesOf(loss?: (o: Tensor, t: Tensor) => Tensor, weightedLoss?: SampleLoss): Losses {
  if (weightedLoss) return { plain: loss ?? ((o, t) => weightedLoss(o, t)), weighted: weightedLoss };
  return loss ? { plain: loss, weighted: null } : { plain: crossEntropy, weighted: weightedCrossEntropy };
}

/** The batch's (x, y, weights?) and the loss to use on it, bound to the weights. */
export function unpackBatch(
  batch: readonly Tensor[],
  losses: Losses,
  where: string,
): { x: Tensor; y: Tensor; bound: (o: Tensor, t: Tensor) => Tensor } {
  const [x, y, w] = batch;
  if (w === undefined) return { x, y, bound: losses.plain };
  const weighted = losses.weighted;
  if (!weighted)
    throw new ValueError(
      `fit: the ${where} data carry per-sample weights (a third tensor, shape [${w.shape.join(', ')}]) but only 'loss' (output, target) was given; give 'weightedLoss' (output, target, weights), or leave both unset for weighted cross-entropy`,
    );
  return { x, y, bound: (o, t) => weighted(o, t, w) };
}

/** What a training step is built from. */
export interface StepSetup {
  model: Module;
  optimizer: Optimizer<BaseOptions>;
  losses: Losses;
  /** Clip the total gradient norm to this value before each update. */
  clipGradNorm?: number;
  /** Compile the step (default: `compiledByDefault()`, true unless keel --eager). */
  compile?: boolean;
  /** The data set that `backward(indices)` takes rows of. */
  dataset?: Dataset;
  /**
   * Perturbs the inputs of the batch `backward(indices)` gathers, inside the step (a DataLoader's
   * `augment`: its transform, drawing on the backend, so a compiled step draws anew each call).
   */
  augment?: (x: Tensor) => Tensor;
}

/** One training step, forward+backward then update (see the file's header). */
export class TrainStep {
  private readonly params: Tensor[];
  /** The gradients between backward and update, one fixed tensor per parameter. */
  private readonly grads: Tensor[];
  /** Which parameters received a gradient (known after the first backward). */
  private received: boolean[] | null = null;
  /** Σ loss × batch size and Σ correct since the last read (float64 [2]). */
  private readonly sums = zeros([2], { dtype: 'float64' });
  private readonly zero2 = new Float64Array(2);
  private classes = true;
  private readonly source: TensorRows | null;
  /** The batch's index tensor, one per batch size, refilled each step. */
  private readonly index = new RowIndex();
  private readonly fromIndex: ((idx: Tensor) => Tensor) | CompiledFunction<[Tensor], Tensor>;
  private readonly fromBatch: ((...b: Tensor[]) => Tensor) | CompiledFunction<Tensor[], Tensor>;
  /**
   * The same for observed steps: plans of their own, traced while the observer's forward taps are
   * on (so they replay them), and falling back to eager apart (a forward hook cannot be compiled).
   */
  private readonly fromIndexObserved: ((idx: Tensor) => Tensor) | CompiledFunction<[Tensor], Tensor>;
  private readonly fromBatchObserved: ((...b: Tensor[]) => Tensor) | CompiledFunction<Tensor[], Tensor>;
  private readonly apply: (() => void) | CompiledFunction<[], undefined>;
  private reasons: string[] = [];

  constructor(private readonly s: StepSetup) {
    checkOptions('TrainStep', TrainStepOptionsSchema, s);
    this.params = s.model.parameters();
    this.grads = this.params.map((p) => zerosLike(p));
    this.source = s.dataset ? tensorRows(s.dataset) : null;
    const compiled = s.compile ?? compiledByDefault();
    const note = (r: string) => void this.reasons.push(r);
    const fromIndex = (idx: Tensor) => this.forwardBackward(this.gather(idx));
    const fromBatch = (...b: Tensor[]) => this.forwardBackward(b);
    const apply = () => {
      this.update1();
    };
    const opts = { fallback: 'eager' as const, onFallback: note };
    this.fromIndex = compiled ? compile(fromIndex, opts) : fromIndex;
    this.fromBatch = compiled ? compile(fromBatch, opts) : fromBatch;
    const observedOpts = {
      fallback: 'eager' as const,
      onFallback: (r: string) => note(`observed steps: ${r}`),
    };
    this.fromIndexObserved = compiled ? compile(fromIndex, observedOpts) : fromIndex;
    this.fromBatchObserved = compiled ? compile(fromBatch, observedOpts) : fromBatch;
    this.apply = compiled ? compile(apply, opts) : apply;
  }

  /** Why parts of the step run eagerly (empty while all of it is compiled, or when not compiled). */
  get eagerReasons(): readonly string[] {
    return this.reasons;
  }

  /** Whether backward can take loader indices (the data set is rows of whole tensors). */
  get gathers(): boolean {
    return this.source !== null;
  }

  /**
   * Forward and backward on the rows `indices` (loader positions) of the data set; returns the
   * batch's loss (detached: the next step overwrites it). An `observed` step (a callback's forward
   * taps or hooks are on) runs the observed plans, or eagerly where those cannot be compiled.
   */
  backward(indices: Int32Array, observed = false): Tensor {
    const src = this.source;
    if (!src) throw new ValueError('TrainStep.backward: the data set is not rows of tensors; pass the batch');
    const idx = this.index.of(indices, src.rows);
    return observed ? this.fromIndexObserved(idx) : this.fromIndex(idx);
  }

  /** The rows `idx` of the data set's tensors, the inputs through `augment`. */
  private gather(idx: Tensor): Tensor[] {
    const batch = rowsOf(this.source as TensorRows, idx);
    if (this.s.augment) batch[0] = this.s.augment(batch[0]);
    return batch;
  }

  /** The same on batch tensors (x, y[, weights]). */
  backwardOn(batch: readonly Tensor[], observed = false): Tensor {
    return observed ? this.fromBatchObserved(...batch) : this.fromBatch(...batch);
  }

  /** The batch tensors of loader positions `indices`, without the transform (to replay a step for a diagnosis). */
  batch(indices: Int32Array): Tensor[] {
    const src = this.source;
    if (!src || !this.s.dataset?.batch)
      throw new ValueError('TrainStep.batch: the data set is not rows of tensors');
    return this.s.dataset.batch(indices);
  }

  /** Clips the gradients (when asked) and steps the optimizer. */
  update(): void {
    this.apply();
  }

  /** Σ loss × batch size and Σ correct since the last read, read to the host, then zeroed. */
  readSums(): { loss: number; correct: number; classes: boolean } {
    const st = this.sums.storage;
    const loss = st.readElement(this.sums.offset);
    const correct = st.readElement(this.sums.offset + 1);
    st.write(this.sums, this.zero2);
    return { loss, correct, classes: this.classes };
  }

  /**
   * The same for backends whose memory is read asynchronously (a GPU: one read waits for the
   * step's work); on host memory it is `readSums`.
   */
  async readSumsAsync(): Promise<{ loss: number; correct: number; classes: boolean }> {
    const st = this.sums.storage;
    if (!st.readSyncRefused) return this.readSums();
    const both = await this.sums.read();
    st.write(this.sums, this.zero2);
    return { loss: both[0], correct: both[1], classes: this.classes };
  }

  private forwardBackward(batch: readonly Tensor[]): Tensor {
    const { model, optimizer, losses } = this.s;
    const { x, y, bound } = unpackBatch(batch, losses, 'training');
    optimizer.zeroGrad();
    const out = model.forward(x);
    const l = bound(out, y);
    l.backward();
    const lt = l.detach();
    noGrad(() => {
      const b = x.shape[0];
      const correct =
        y.dtype === 'int32'
          ? cast(countCorrect(out.detach(), y), 'float64')
          : fromHost(new Float64Array(1), [], 'float64');
      if (y.dtype !== 'int32') this.classes = false;
      copy_(this.sums, add(this.sums, stack([mul(cast(lt, 'float64'), b), correct])));
      const received = this.params.map((p) => peekGrad(p) !== null);
      this.received ??= received;
      this.params.forEach((p, i) => {
        const g = peekGrad(p);
        if (g) copy_(this.grads[i], g);
      });
    });
    return lt;
  }

  private update1(): void {
    const received = this.received;
    if (!received) throw new ValueError('TrainStep.update: no backward ran before it');
    this.params.forEach((p, i) => {
      p.grad = received[i] ? this.grads[i] : null;
    });
    if (this.s.clipGradNorm !== undefined) clipGradNormTensor_(this.params, this.s.clipGradNorm);
    this.s.optimizer.step();
  }
}
