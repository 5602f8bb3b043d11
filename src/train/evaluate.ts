/**
 * Evaluation: a model's mean loss (and accuracy, for int32 labels) over a loader, in eval mode
 * without gradients. Each batch runs as a compiled plan by default — its rows gathered inside the
 * plan when the data set is rows of tensors — with the sums kept on the backend and read once at
 * the end; `compile: false` runs the same computation eagerly.
 */
import { noGrad } from '../autograd/mode.js';
import { compile, compiledByDefault } from '../compile/compile.js';
import { RowIndex, rowsOf, type TensorRows, tensorRows } from '../data/dataset.js';
import type { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { add, cast, mul } from '../ops/elementwise.js';
import { copy_ } from '../ops/inplace.js';
import { stack } from '../ops/shape.js';
import { fromHost, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { countCorrect } from './metrics.js';
import { type Losses, unpackBatch } from './step.js';

/** Evaluates a model over loaders (see the file's header). */
export class Evaluator {
  /** Σ loss × batch size and Σ correct (float64 [2]). */
  private readonly sums = zeros([2], { dtype: 'float64' });
  private classes = true;
  private readonly onBatch: (...b: Tensor[]) => Tensor;
  private readonly onRows: (src: TensorRows, idx: Tensor) => void;
  private readonly index = new RowIndex();

  constructor(
    private readonly model: Module,
    private readonly losses: Losses,
    compiled = compiledByDefault(),
  ) {
    const body = (...batch: Tensor[]) => {
      const { x, y, bound } = unpackBatch(batch, this.losses, 'evaluation');
      const out = this.model.forward(x);
      const l = bound(out, y);
      const correct =
        y.dtype === 'int32'
          ? cast(countCorrect(out, y), 'float64')
          : fromHost(new Float64Array(1), [], 'float64');
      if (y.dtype !== 'int32') this.classes = false;
      copy_(this.sums, add(this.sums, stack([mul(cast(l, 'float64'), x.shape[0]), correct])));
      return l;
    };
    this.onBatch = compiled ? compile(body, { fallback: 'eager' }) : body;
    // The data tensors are the same at every call: closed over by a compiled function per loader.
    const perData = new WeakMap<Tensor, (idx: Tensor) => Tensor>();
    this.onRows = (src, idx) => {
      let f = perData.get(src.tensors[0]);
      if (!f) {
        const g = (i: Tensor) => body(...rowsOf(src, i));
        f = compiled ? compile(g, { fallback: 'eager' }) : g;
        perData.set(src.tensors[0], f);
      }
      f(idx);
    };
  }

  /** The mean loss (and accuracy) of the model over `loader`. */
  run(loader: DataLoader): { loss: number; accuracy?: number } {
    const count = this.sweep(loader);
    const st = this.sums.storage;
    return this.mean(st.readElement(this.sums.offset), st.readElement(this.sums.offset + 1), count);
  }

  /**
   * The same with one awaited read of the sums, for backends whose memory is read asynchronously
   * (a GPU); on host memory it is `run`.
   */
  async runAsync(loader: DataLoader): Promise<{ loss: number; accuracy?: number }> {
    if (!this.sums.storage.readSyncRefused) return this.run(loader);
    const count = this.sweep(loader);
    const [loss, correct] = await this.sums.read();
    return this.mean(loss, correct, count);
  }

  private mean(loss: number, correct: number, count: number): { loss: number; accuracy?: number } {
    const n = Math.max(count, 1);
    return this.classes ? { loss: loss / n, accuracy: correct / n } : { loss: loss / n };
  }

  /** Runs the batches of `loader`, summing on the backend; returns how many samples they held. */
  private sweep(loader: DataLoader): number {
    const wasTraining = this.model.training;
    this.model.eval();
    this.classes = true;
    let count = 0;
    try {
      noGrad(() => {
        this.sums.storage.write(this.sums, [0, 0]);
        const src = tensorRows(loader.dataset);
        if (!src) {
          for (const batch of loader.batches(loader.order(), 0, false)) {
            this.onBatch(...batch);
            count += batch[0].shape[0];
          }
          return;
        }
        const order = loader.order();
        const n = loader.dataset.length;
        for (let b = 0; b < loader.length; b++) {
          const from = b * loader.batchSize;
          const size = Math.min(n, from + loader.batchSize) - from;
          this.onRows(src, this.index.of(order.subarray(from, from + size), src.rows));
          count += size;
        }
      });
    } finally {
      this.model.train(wasTraining);
    }
    return count;
  }
}
