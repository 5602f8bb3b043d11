/**
 * DataLoader: iterates a dataset in mini-batches, optionally shuffled by a seeded generator (a new
 * permutation every epoch, reproducible from the seed) and dropping the last incomplete batch. A
 * `transform` (data/transforms: noise, translation, flip, erasing) perturbs the inputs — the first
 * tensor — of its training batches, drawing from the same generator: the batches it yields, and
 * inside `fit`'s compiled step right after the batch gather (`augment`). Evaluation never applies it.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { defaultGenerator, type Rng } from '../util/random.js';
import { collate, type Dataset, randperm } from './dataset.js';
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
}

/** Mini-batches of a dataset; iterate it once per epoch. */
export class DataLoader implements Iterable<Tensor[]> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Draws the shuffling permutations and the transform's perturbations (checkpoints save and restore its state). */
  readonly generator: Rng;
  /** The training transform of the inputs, or null. */
  readonly transform: Transform | null;

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
    for (let b = from; b < this.length; b++) {
      const idx = order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
      const batch = this.dataset.batch
        ? this.dataset.batch(idx)
        : collate(Array.from(idx, (i) => this.dataset.get(i)));
      if (augment && this.transform) batch[0] = this.augment(batch[0]);
      yield batch;
    }
  }

  *[Symbol.iterator](): Iterator<Tensor[]> {
    yield* this.batches(this.order());
  }
}
