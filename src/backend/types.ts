/**
 * The backend seam (DESIGN.md §2). A backend sees only buffers, shapes, strides and dtypes —
 * never tensors, autograd or nn. Inputs are strided views (possibly broadcast, stride 0);
 * outputs are new contiguous row-major buffers. `js` is the reference; faster backends implement
 * the same interface and are tested against it by the conformance suite.
 */

/** Element types of keel tensors. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Storage of one dtype: float32 → Float32Array, float64 → Float64Array, int32 → Int32Array, bool → Uint8Array (0/1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Where a kernel gets random bits: the generator hands out the state of a 4-lane mask stream. */
export interface RandomState {
  /** 16 uint32 words, word w of lane j at 4w + j (see util/random.ts `fillMaskLanes`). */
  maskLanes(): Uint32Array;
}

/** A strided window onto a buffer. `strides` and `offset` are in elements. */
export interface View {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
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
  unary(op: UnaryOp, x: View, outDtype: DType): TypedArray;
  /** out = op(a, b); `a` and `b` are already broadcast to `outShape` (stride 0 where broadcast). */
  binary(op: BinaryOp, a: View, b: View, outShape: readonly number[], outDtype: DType): TypedArray;
  /** out = cond ? a : b, all three broadcast to `outShape`. */
  where(cond: View, a: View, b: View, outShape: readonly number[], outDtype: DType): TypedArray;
  /** Reduces `axes` (sorted, distinct); the output shape is x.shape without those axes. */
  reduce(op: ReduceOp, x: View, axes: readonly number[], outDtype: DType): TypedArray;
  /** Index of the first maximum (minimum) along `axis`; NaN counts as the maximum (minimum). */
  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): Int32Array;
  /**
   * Batched matrix product. a: [...batch, m, k], b: [...batch, k, n], both of rank `outShape.length`
   * with batch dimensions already broadcast (stride 0). Any strides: transposed operands are read in place.
   * `bias` (shape [n], same dtype) is added to every row — the linear layer's bias as the product's
   * epilogue, instead of a separate broadcast add.
   */
  matmul(a: View, b: View, outShape: readonly number[], outDtype: DType, bias?: View): TypedArray;
  /** out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`; out has index.shape. */
  gather(x: View, axis: number, index: View, outDtype: DType): TypedArray;
  /** zeros(outShape) then out[..., index[..., j, ...], ...] += src[..., j, ...] along `axis`. */
  scatterAdd(outShape: readonly number[], axis: number, index: View, src: View, outDtype: DType): TypedArray;
  /** Selects the entries `index` along `axis`. */
  indexSelect(x: View, axis: number, index: Int32Array, outDtype: DType): TypedArray;
  /** zeros(outShape) then out[..., index[j], ...] += src[..., j, ...] along `axis`. */
  indexAdd(
    outShape: readonly number[],
    axis: number,
    index: Int32Array,
    src: View,
    outDtype: DType,
  ): TypedArray;
  /** Writes `src` (already broadcast to dst.shape) into the strided destination `dst`. */
  copyInto(dst: View, src: View): void;
  /**
   * Inverted dropout in one pass: mask[i] = (draw < p·2³² ? 0 : scale), out[i] = x[i]·mask[i], with
   * the draws of `fillMaskLanes` from `rng.maskLanes()` (x in row-major order). Returns [out, mask],
   * both contiguous in x's (float) dtype; every backend gives the same masks from the same seed.
   */
  dropout(x: View, p: number, scale: number, rng: RandomState): [TypedArray, TypedArray];
  /**
   * Plain SGD in place: w[off + i] ← w[off + i] − lr·g[i] for i < g.length, in float64 arithmetic
   * rounded once into w (every backend gives the same bits).
   */
  sgd(w: Float32Array | Float64Array, off: number, g: ArrayLike<number>, lr: number): void;
  /**
   * Softmax cross-entropy of each row of x [N, C] at int32 class targets t [N]:
   * loss[i] = lse[i] − x[i, t[i]] with lse[i] = log Σⱼ exp(x[i, j]) (shifted by the row's maximum
   * when finite), in float64. Returns [loss as outDtype, softmax(x) as float64 N×C row-major].
   * Throws on a target outside 0..C−1.
   */
  softmaxCrossEntropy(x: View, target: View, outDtype: DType): [TypedArray, Float64Array];
  /**
   * The gradient of `softmaxCrossEntropy` with respect to x, from its softmax: out[i, j] =
   * factor·g[i]·(probs[i, j] − [j = t[i]]) in float64, rounded once to outDtype (g is [N]; stride 0
   * for a reduced loss).
   */
  softmaxCrossEntropyGrad(
    probs: Float64Array,
    target: View,
    g: View,
    factor: number,
    outDtype: DType,
  ): TypedArray;
}

/** Arrays of at most this many bytes are carved from shared slabs (below: V8 allocates on-heap). */
const SLAB_MAX_BYTES = 4096;
const SLAB_MIN_BYTES = 65;
const SLAB_BYTES = 1 << 16;
let slab = new ArrayBuffer(0);
let slabUsed = SLAB_BYTES; // full: the first small array opens a slab

/**
 * Allocates a zeroed buffer of a dtype. A fresh ArrayBuffer costs about a microsecond whatever its
 * size (backing store, zeroing, GC bookkeeping), which dominates ops on small tensors; so arrays of
 * 65 B to 4 KB are views carved from 64 KB zeroed slabs, never reused (a slab is freed by the GC
 * once none of its arrays is reachable, so a long-lived small array keeps at most 64 KB alive).
 */
export function allocate(dtype: DType, size: number): TypedArray {
  const bytes = size * bytesPerElement(dtype);
  if (bytes >= SLAB_MIN_BYTES && bytes <= SLAB_MAX_BYTES) {
    if (slabUsed + bytes > SLAB_BYTES) {
      slab = new ArrayBuffer(SLAB_BYTES);
      slabUsed = 0;
    }
    const at = slabUsed;
    slabUsed += (bytes + 15) & ~15;
    switch (dtype) {
      case 'float32':
        return new Float32Array(slab, at, size);
      case 'float64':
        return new Float64Array(slab, at, size);
      case 'int32':
        return new Int32Array(slab, at, size);
      case 'bool':
        return new Uint8Array(slab, at, size);
    }
  }
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
    default:
      return dtype satisfies never;
  }
}

/** Bytes per element of a dtype. */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}
