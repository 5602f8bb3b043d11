/**
 * The backend seam (DESIGN.md §2). A backend sees only storages, shapes, strides and dtypes — never
 * tensors, autograd or nn. A tensor's elements live in a `Storage` its backend made: host memory
 * for the CPU backends (js, wasm, native: `host.ts`), a device buffer for a GPU backend. Layers
 * above reach the elements only through the storage's doors — `readSync`/`read` (a copy into host
 * memory) and `write` — so a new backend never means touching nn, optim or diagnostics. Inputs are
 * strided views (possibly broadcast, stride 0); outputs are new contiguous row-major storages. `js`
 * is the reference; faster backends implement the same interface and are tested against it by the
 * conformance suite.
 */
import type { DType, TypedArray } from '../util/dtype.js';
import type { RandomKind } from '../util/random.js';
import type { OptimizerFamily } from './optimizer.js';
import type { Plan, PlanRunner } from './plan.js';

export type { DType, TypedArray } from '../util/dtype.js';

/** Where a view's elements sit in its storage. `strides` and `offset` are in elements. */
export interface Window {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * A tensor's elements, owned by the backend that made them. Host memory on the CPU backends; a
 * GPU backend's storage would hold a device buffer, copy to the host in `read` (mapping it) and
 * refuse `readSync` where the device cannot be read synchronously.
 */
export interface Storage {
  readonly dtype: DType;
  /** Elements it holds. */
  readonly length: number;
  /** The elements of a window, row-major, copied into a new host array. */
  readSync(w: Window): TypedArray;
  /**
   * The elements of a window, row-major, copied into `out` (of the storage's dtype, at least the
   * window's size long) — a read without a new host array. Optional: callers fall back to
   * `out.set(readSync(w))`.
   */
  readInto?(w: Window, out: TypedArray): void;
  /** The same, for storages that can only be read asynchronously. */
  read(w: Window): Promise<TypedArray>;
  /** One element. */
  readElement(offset: number): number;
  /** Writes `values` (row-major) into a window. */
  write(w: Window, values: ArrayLike<number>): void;
  /** True for storages that can only be read asynchronously (`read`): a GPU's. */
  readonly readSyncRefused?: boolean;
  /** Its serial number (serial.ts): storages made later have larger ones. */
  readonly serial?: number;
  /**
   * Gives the elements' memory back now (to a pool), for a storage nothing else can reach; reading
   * it afterwards throws — with `why` as the message when given. Storages without it are left to the
   * garbage collector.
   */
  release?(why?: string): void;
  /**
   * @internal How many graph nodes' saved lists hold this storage: autograd's bookkeeping
   * (autograd/transient.ts), kept on the storage so counting costs a field, not a map lookup.
   */
  savedBy?: number;
}

/**
 * Where a kernel gets random bits: a generator's next 32-bit draws (a dropout kernel takes two, the
 * key of its Philox stream: util/random.ts `fillDropoutMask`).
 */
export interface RandomState {
  nextUint32(): number;
}

/** A strided window onto a storage. */
export interface View extends Window {
  readonly storage: Storage;
}

/** Element-wise unary kernels. `copy` converts to the requested output dtype. */
export type UnaryOp =
  | 'copy'
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'erf';

/**
 * Element-wise binary kernels; comparisons write 0/1 into a bool buffer. `reluGrad` is relu's
 * backward fused into one pass: out = b > 0 ? a : 0 (a the incoming gradient, b relu's output).
 */
export type BinaryOp =
  | 'reluGrad'
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge';

/** Reductions over a set of axes. */
export type ReduceOp = 'sum' | 'max' | 'min';

/** The kernels a backend provides. */
export interface Backend {
  readonly name: string;
  /** out[i] = op(x[i]), out has x.shape. */
  unary(op: UnaryOp, x: View, outDtype: DType): Storage;
  /** out = op(a, b); `a` and `b` are already broadcast to `outShape` (stride 0 where broadcast). */
  binary(op: BinaryOp, a: View, b: View, outShape: readonly number[], outDtype: DType): Storage;
  /** out = cond ? a : b, all three broadcast to `outShape`. */
  where(cond: View, a: View, b: View, outShape: readonly number[], outDtype: DType): Storage;
  /** Reduces `axes` (sorted, distinct); the output shape is x.shape without those axes. */
  reduce(op: ReduceOp, x: View, axes: readonly number[], outDtype: DType): Storage;
  /** Index of the first maximum (minimum) along `axis`; NaN counts as the maximum (minimum). */
  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): Storage;
  /**
   * Batched matrix product. a: [...batch, m, k], b: [...batch, k, n], both of rank `outShape.length`
   * with batch dimensions already broadcast (stride 0). Any strides: transposed operands are read in place.
   * `bias` (shape [n], same dtype) is added to every row — the linear layer's bias as the product's
   * epilogue, instead of a separate broadcast add.
   */
  matmul(a: View, b: View, outShape: readonly number[], outDtype: DType, bias?: View): Storage;
  /**
   * The product of `matmul` written into `out` (row-major, its shape the product's, its storage's
   * dtype the product's), for a caller that reuses its result's memory (k.matmul's `out`). Optional:
   * returns false, having written nothing, where the backend cannot (the caller then copies).
   */
  matmulInto?(out: View, a: View, b: View): boolean;
  /** out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`; out has index.shape. */
  gather(x: View, axis: number, index: View, outDtype: DType): Storage;
  /** zeros(outShape) then out[..., index[..., j, ...], ...] += src[..., j, ...] along `axis`. */
  scatterAdd(outShape: readonly number[], axis: number, index: View, src: View, outDtype: DType): Storage;
  /** Selects the entries `index` (a 1-D int32 view) along `axis`; out of range throws. */
  indexSelect(x: View, axis: number, index: View, outDtype: DType): Storage;
  /** zeros(outShape) then out[..., index[j], ...] += src[..., j, ...] along `axis` (index: 1-D int32). */
  indexAdd(outShape: readonly number[], axis: number, index: View, src: View, outDtype: DType): Storage;
  /** Writes `src` (already broadcast to dst.shape) into the strided destination `dst`. */
  copyInto(dst: View, src: View): void;
  /**
   * Inverted dropout in one pass: mask[i] = (draw < p·2¹⁶ ? 0 : scale), out[i] = x[i]·mask[i], with
   * the draws of `fillDropoutMask` under the key k0 = rng.nextUint32(), k1 = rng.nextUint32() (x in
   * row-major order). Returns [out, mask], both contiguous in x's (float) dtype; every backend gives
   * the same masks from the same seed, and any range of elements can be drawn on its own.
   */
  dropout(x: View, p: number, scale: number, rng: RandomState): [Storage, Storage];
  /**
   * y ← y + alpha·x in place (x already broadcast to y.shape), each element computed in float64 and
   * rounded once into y — the optimizer's update; every backend gives the same bits.
   */
  axpy(y: View, alpha: number, x: View): void;
  /**
   * One optimizer step on a parameter in place (backend/optimizer.ts is the spec): w, its state
   * buffers (contiguous, w's shape and dtype, in the order `stateNames` gives) and the gradient g
   * (any view of w's shape); `h` holds the step's hyper-parameters and is only read.
   */
  optimizerStep(family: OptimizerFamily, w: View, g: View, state: readonly View[], h: Float64Array): void;
  /**
   * Random draws of `shape` and a float dtype from the counter-based stream of
   * util/random.ts `fillRandom`, keyed by two words of `rng` (k0 then k1): 'uniform' on [a, b),
   * 'normal' with mean a and standard deviation b. Every backend gives the same draws.
   */
  random(
    kind: RandomKind,
    shape: readonly number[],
    dtype: DType,
    a: number,
    b: number,
    rng: RandomState,
  ): Storage;
  /** A storage holding `array`, which the caller hands over (host backends adopt it, a GPU backend uploads it). */
  fromHost(array: TypedArray): Storage;
  /**
   * Softmax cross-entropy of each row of x [N, C] at int32 class targets t [N]:
   * loss[i] = lse[i] − x[i, t[i]] with lse[i] = log Σⱼ exp(x[i, j]) (shifted by the row's maximum
   * when finite), in float64. Returns [loss as outDtype, softmax(x) as float64 N×C row-major].
   * Throws on a target outside 0..C−1.
   */
  softmaxCrossEntropy(x: View, target: View, outDtype: DType): [Storage, Storage];
  /**
   * The gradient of `softmaxCrossEntropy` with respect to x, from its softmax: out[i, j] =
   * factor·g[i]·(probs[i, j] − [j = t[i]]) in float64, rounded once to outDtype (g is [N]; stride 0
   * for a reduced loss).
   */
  softmaxCrossEntropyGrad(probs: View, target: View, g: View, factor: number, outDtype: DType): Storage;
  /**
   * Prepares a plan (plan.ts) for repeated runs: the CPU backends bind every op to fixed places in
   * one arena, a GPU backend would record a command buffer. Without it — or when it returns null,
   * for a plan it cannot bind — plans replay through this backend's kernels one by one (replay.ts).
   */
  prepare?(plan: Plan): PlanRunner | null;
  /**
   * A storage of `length` elements (their values unspecified) placed where this backend's compiled
   * plans read data in place — the CPU backends' kernel memory — for large data written once and
   * read by many steps (a data set): a plan then reads it where it is instead of moving it there on
   * its first run. Null where there is no room; absent where placement does not matter.
   */
  resident?(dtype: DType, length: number): Storage | null;
  /**
   * For a backend whose memory is read asynchronously (a GPU): waits for the device and copies to
   * the host every storage it has written in place — parameters, optimizer state, running sums —
   * so that synchronous reads of them (`readSync`, `item`) answer until the device writes them
   * again. `fit` calls it before the epoch's callbacks and checkpoints. Host backends lack it.
   */
  sync?(): Promise<void>;
}
