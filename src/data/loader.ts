/**
 * DataLoader: iterates a dataset in mini-batches, optionally shuffled by a seeded generator (a new
 * permutation every epoch, reproducible from the seed) and dropping the last incomplete batch. A
 * `transform` (data/transforms: noise, translation, flip, erasing) perturbs the inputs — the first
 * tensor — of its training batches, drawing from the same generator: the batches it yields, and
 * inside `fit`'s compiled step right after the batch gather (`augment`). Evaluation never applies it.
 * With `reuseBatches` each batch's storages go back to the host pool when the next batch is made (or
 * the loop ends), so a loop allocates nothing per batch; reading a used batch throws, saying why.
 */

import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { defaultGenerator, type Rng } from '../util/random.js';
import { collate, type Dataset, RowIndex, randperm, rowsOf, type TensorRows, tensorRows } from './dataset.js';
import { LoaderOptionsSchema } from './options.js';
import type { Transform } from './transforms/types.js';

/** Options of `DataLoader`. */
export interface LoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  /** Drop the last batch if it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Rng of the shuffling permutations and the transform's draws (default: the global one). */
  generator?: Rng;
  /** Perturbs the inputs of the training batches (default: none); see data/transforms. */
  transform?: Transform;
  /**
   * Hand each batch's memory back to keel's pool when the next batch is made (or the loop ends),
   * so iterating allocates nothing new per batch and leaves the garbage collector nothing to do
   * (default false). A batch is then valid only inside its turn of the loop: reading one of its
   * tensors later throws, saying so — clone what you keep. A compiled step copies its inputs in,
   * so `for (const [x, y] of loader) step(x, y)` is the intended use. Needs a `TensorDataset` (or a
   * `Subset` of one), whose batches are new tensors the loader owns.
   */
  reuseBatches?: boolean;
}

/** What reading a batch after the loader handed its memory back says. */
const RELEASED_BATCH =
  "this tensor is a DataLoader batch whose memory went back to the pool when the next batch was made (reuseBatches: true); clone() a batch's tensors to keep them past their turn of the loop";

/** Mini-batches of a dataset; iterate it once per epoch. */
export class DataLoader implements Iterable<Tensor[]> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Draws the shuffling permutations and the transform's perturbations (checkpoints save and restore its state). */
  readonly generator: Rng;
  /** The training transform of the inputs, or null. */
  readonly transform: Transform | null;
  /** Whether each batch's memory goes back to the pool when the next one is made. */
  readonly reuseBatches: boolean;
  /** With reuseBatches: the tensors batches are rows of, and how loader indices map to their rows. */
  readonly #rows: TensorRows | null = null;
  /** With reuseBatches: the batch's index tensor, rewritten for each batch. */
  readonly #index = new RowIndex();

  constructor(
    readonly dataset: Dataset,
    opts: LoaderOptions = {},
  ) {
    checkOptions('DataLoader', LoaderOptionsSchema, opts);
    this.batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? defaultGenerator();
    this.transform = opts.transform ?? null;
    this.reuseBatches = opts.reuseBatches ?? false;
    if (this.reuseBatches) this.#rows = tensorRows(dataset);
    if (this.reuseBatches && !this.#rows)
      throw new ValueError(
        `DataLoader: reuseBatches needs a TensorDataset or a Subset of one (their batches are new tensors the loader may recycle), got ${dataset.constructor?.name ?? typeof dataset}`,
      );
  }

  /** A training batch's inputs through the transform (drawing from `generator`); `x` itself without one. */
  augment(x: Tensor): Tensor {
    return this.transform ? this.transform.apply(x, { generator: this.generator, training: true }) : x;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One epoch's order of the samples: a fresh permutation when shuffling (drawn from `generator`). */
  order(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return randperm(n, this.generator);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }

  /**
   * The batches of an epoch in `order`, starting at batch `from` (to resume inside an epoch), their
   * inputs through the transform unless `augment` is false (evaluation).
   */
  *batches(order: Int32Array, from = 0, augment = true): Generator<Tensor[]> {
    const n = this.dataset.length;
    // With reuseBatches: the tensors the loader made for the batch in hand, released before the next.
    let made: Tensor[] = [];
    try {
      for (let b = from; b < this.length; b++) {
        releaseAll(made);
        const idx = order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
        const batch = this.#rows
          ? this.#rowsAt(this.#rows, idx)
          : this.dataset.batch
            ? this.dataset.batch(idx)
            : collate(Array.from(idx, (i) => this.dataset.get(i)));
        if (this.reuseBatches) made = [...batch];
        if (augment && this.transform) batch[0] = this.augment(batch[0]);
        if (this.reuseBatches && batch[0] !== made[0]) made.push(batch[0]);
        yield batch;
      }
    } finally {
      releaseAll(made);
    }
  }

  /** The rows of the data set's tensors at loader indices `idx` (a batch allocates only its tensors). */
  #rowsAt(src: TensorRows, idx: Int32Array): Tensor[] {
    return rowsOf(src, this.#index.of(idx, src.rows));
  }

  [Symbol.iterator](): Iterator<Tensor[]> {
    // The epoch's generator itself (delegating to it through a second generator cost an object a batch).
    return this.batches(this.order());
  }
}

/** Hands the storages of a used batch back to the pool (a storage shared by two of them once). */
function releaseAll(tensors: readonly Tensor[]): void {
  if (tensors.length === 0) return;
  for (const t of new Set(tensors.map((u) => u.storage))) t.release?.(RELEASED_BATCH);
}
