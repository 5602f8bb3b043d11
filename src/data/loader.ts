/**
 * DataLoader: iterates a dataset in mini-batches, optionally shuffled by a seeded generator (a new
 * permutation every epoch, reproducible from the seed) and dropping the last incomplete batch.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { defaultGenerator, type Rng } from '../util/random.js';
import { collate, type Dataset, randperm } from './dataset.js';

/** Options of `DataLoader`. */
export interface LoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  /** Drop the last batch if it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Rng of the shuffling permutations (default: the global one). */
  generator?: Rng;
}

/** Mini-batches of a dataset; iterate it once per epoch. */
export class DataLoader implements Iterable<Tensor[]> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Rng;

  constructor(
    readonly dataset: Dataset,
    opts: LoaderOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? defaultGenerator();
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<Tensor[]> {
    const n = this.dataset.length;
    let order: Int32Array;
    if (this.shuffle) order = randperm(n, this.generator);
    else {
      order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    for (let b = 0; b < this.length; b++) {
      const idx = order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
      if (this.dataset.batch) yield this.dataset.batch(idx);
      else yield collate(Array.from(idx, (i) => this.dataset.get(i)));
    }
  }
}
