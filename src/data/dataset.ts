/**
 * Datasets: anything with a length and indexed access to a tuple of tensors. `TensorDataset` holds
 * whole tensors whose first axis is the sample axis (the DataLoader slices batches out of them
 * directly); `ImageDataset` is one whose images are stored as bytes and come out float32 in [0, 1]
 * as they are gathered; `Subset` views some indices of another dataset; `randomSplit` makes
 * disjoint subsets from a seeded permutation.
 */
import { backend } from '../backend/registry.js';
import type { Backend } from '../backend/types.js';
import { cast, div } from '../ops/elementwise.js';
import { indexSelect } from '../ops/indexing.js';
import { select } from '../ops/shape.js';
import { tensor, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../util/errors.js';
import { defaultGenerator, type Rng } from '../util/random.js';

/** A collection of samples; each sample is a tuple of tensors (e.g. [image, label]). */
export interface Dataset {
  readonly length: number;
  /** Sample i (0 ≤ i < length). */
  get(i: number): Tensor[];
  /** The samples at `indices`, stacked along a new first axis (a fast path for loaders). */
  batch?(indices: Int32Array): Tensor[];
}

/** Samples are rows of the given tensors (all with the same first dimension). */
export class TensorDataset implements Dataset {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new ValueError('TensorDataset: expected at least one tensor');
    const n = tensors[0].shape[0];
    for (const t of tensors) {
      if (t.ndim === 0 || t.shape[0] !== n) {
        throw new ShapeError(
          `TensorDataset: all tensors need the same first dimension, got ${tensors.map((u) => fmtShape(u.shape)).join(', ')}`,
        );
      }
    }
    this.tensors = tensors;
  }
  get length(): number {
    return this.tensors[0].shape[0];
  }
  get(i: number): Tensor[] {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new ValueError(`TensorDataset.get: index ${i} is out of range 0..${this.length - 1}`);
    }
    return this.tensors.map((t) => select(t, 0, i));
  }
  batch(indices: Int32Array): Tensor[] {
    // The index tensor is rewritten for the next batch, so it is shared only where no gradient
    // graph can save it (a data set tensor that requires grad gets a fresh one).
    const idx = this.tensors.some((t) => t.requiresGrad) ? tensor(indices) : this.#index.of(indices, null);
    return this.tensors.map((t) => indexSelect(t, 0, idx));
  }
  readonly #index = new RowIndex();
}

/**
 * Pixel bytes as float32 in [0, 1]: x / 255, divided in float32 — for every byte value the same
 * bits as dividing in float64 and rounding once (checked for all 256 in test/pixels.test.ts), so
 * images gathered from bytes equal those converted up front.
 */
export function unitPixels(bytes: Tensor): Tensor {
  return div(cast(bytes, 'float32'), 255);
}

/**
 * Samples are rows of uint8 images `pixels` [N, …] (as stored: a quarter of the memory of float32
 * images, e.g. Fashion-MNIST's 47 MB instead of 188 MB) and of the other tensors (labels); samples
 * and batches give the images as float32 in [0, 1] (`unitPixels`), converted as they are gathered —
 * in a compiled step, in the gather's own pass (the plan's fused `gatherPixels`).
 */
export class ImageDataset extends TensorDataset {
  constructor(pixels: Tensor, ...rest: Tensor[]) {
    if (pixels.dtype !== 'uint8')
      throw new DTypeError(
        `ImageDataset: the images must be uint8 pixels (0…255), got ${pixels.dtype}; float images go in a TensorDataset`,
      );
    super(pixels, ...rest);
  }
  override get(i: number): Tensor[] {
    const s = super.get(i);
    s[0] = unitPixels(s[0]);
    return s;
  }
  override batch(indices: Int32Array): Tensor[] {
    const b = super.batch(indices);
    b[0] = unitPixels(b[0]);
    return b;
  }
}

/** The samples of `dataset` at `indices`. */
export class Subset implements Dataset {
  constructor(
    readonly dataset: Dataset,
    readonly indices: Int32Array,
  ) {}
  get length(): number {
    return this.indices.length;
  }
  get(i: number): Tensor[] {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new ValueError(`Subset.get: index ${i} is out of range 0..${this.length - 1}`);
    return this.dataset.get(this.indices[i]);
  }
  batch(indices: Int32Array): Tensor[] {
    const mapped = indices.map((i) => this.indices[i]);
    if (this.dataset.batch) return this.dataset.batch(mapped);
    return collate(Array.from(mapped, (i) => this.dataset.get(i)));
  }
}

/** The whole tensors a data set's batches are rows of (see `tensorRows`). */
export interface TensorRows {
  tensors: Tensor[];
  /** Loader index → row of the tensors (a Subset chain's), or null for the identity. */
  rows: Int32Array | null;
  /** The first tensor is uint8 pixels that batches give as float32 in [0, 1] (ImageDataset). */
  pixels: boolean;
}

/** The batch of rows `idx` (an int32 index tensor) of `src`'s tensors, pixels as float32 in [0, 1]. */
export function rowsOf(src: TensorRows, idx: Tensor): Tensor[] {
  return src.tensors.map((t, i) => {
    const r = indexSelect(t, 0, idx);
    return i === 0 && src.pixels ? unitPixels(r) : r;
  });
}

/**
 * The whole tensors a data set's batches are rows of, and how a loader index maps to their rows —
 * for a TensorDataset or a chain of Subsets of one; null for other data sets (their batches are
 * made by their own `batch`/`get`). `pixels`: the first tensor holds an ImageDataset's bytes.
 */
export function tensorRows(dataset: Dataset): TensorRows | null {
  if (dataset instanceof TensorDataset)
    return { tensors: dataset.tensors, rows: null, pixels: dataset instanceof ImageDataset };
  if (dataset instanceof Subset) {
    const inner = tensorRows(dataset.dataset);
    if (!inner) return null;
    const rows = inner.rows ? dataset.indices.map((i) => (inner.rows as Int32Array)[i]) : dataset.indices;
    return { tensors: inner.tensors, rows, pixels: inner.pixels };
  }
  return null;
}

/**
 * The int32 index tensor of a batch's rows: one per batch size, rewritten for each batch (so a loop
 * over batches makes none), holding loader positions mapped through `rows` (a Subset chain's, from
 * `tensorRows`) when given. What `fit`'s step, the evaluator and a `reuseBatches` loader gather by.
 */
export class RowIndex {
  // Per backend (an index made on one is not read by another), then per batch size.
  readonly #slots = new Map<Backend, Map<number, { t: Tensor; values: Int32Array }>>();

  /** The index tensor of the rows at loader positions `positions`. */
  of(positions: ArrayLike<number>, rows: Int32Array | null): Tensor {
    const n = positions.length;
    const be = backend();
    let sized = this.#slots.get(be);
    if (!sized) {
      sized = new Map();
      this.#slots.set(be, sized);
    }
    let slot = sized.get(n);
    if (!slot) {
      slot = { t: zeros([n], { dtype: 'int32' }), values: new Int32Array(n) };
      sized.set(n, slot);
    }
    for (let i = 0; i < n; i++) slot.values[i] = rows ? rows[positions[i]] : positions[i];
    slot.t.storage.write(slot.t, slot.values);
    return slot.t;
  }
}

/** Stacks a list of samples into batch tensors. */
export function collate(samples: Tensor[][]): Tensor[] {
  if (samples.length === 0) throw new ValueError('collate: empty batch');
  return samples[0].map((first, j) => {
    const rows = samples.map((s) => s[j].readSync());
    const Ctor = rows[0].constructor as new (n: number) => Float32Array;
    const data = new Ctor(rows.length * first.size);
    rows.forEach((r, i) => {
      data.set(r, i * first.size);
    });
    return tensor(data, { shape: [samples.length, ...first.shape], dtype: first.dtype });
  });
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates with the given generator). */
export function randperm(n: number, generator: Rng = defaultGenerator()): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = generator.integer(0, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Splits a dataset into disjoint random subsets of the given sizes — counts, or fractions adding up
 * to 1 (remainders go to the first subsets, as PyTorch).
 */
export function randomSplit(dataset: Dataset, lengths: readonly number[], generator?: Rng): Subset[] {
  const n = dataset.length;
  let counts = [...lengths];
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.every((f) => f >= 0 && f <= 1) && Math.abs(total - 1) < 1e-9 && total !== n) {
    counts = counts.map((f) => Math.floor(f * n));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]++;
  } else if (total !== n || counts.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new ValueError(
      `randomSplit: lengths [${lengths}] must be counts adding up to ${n} or fractions adding up to 1`,
    );
  }
  const perm = randperm(n, generator);
  let at = 0;
  return counts.map((c) => {
    const s = new Subset(dataset, perm.slice(at, at + c));
    at += c;
    return s;
  });
}
