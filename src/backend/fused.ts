/**
 * Fused kernels of plans, each defined by the eager composite it replaces — which is also how a
 * backend without a kernel of its own runs it (`runFused`, over the `Backend` kernels) and the
 * oracle its kernels are tested against:
 *
 * - `linearAct`: y = act(x·W + b) and, with dropout, [y, mask] = dropout(y) — the linear layer's
 *   forward with its epilogue (the composite: matmul with the bias, relu, dropout).
 * - `reluBackward`: dz = where(y > 0, g ⊙ mask, 0) for y = the layer's output (after the mask;
 *   equal to relu's backward of g ⊙ mask for finite g, since y = relu(·)·mask with mask ≥ 0 is > 0
 *   exactly where relu's output is > 0 and the mask keeps it), and the bias gradient Σ_rows dz.
 * - `crossEntropyStep`: softmax cross-entropy's forward (the reduced loss) and its backward
 *   (dx = factor·g·(softmax(x) − onehot(t))) in one kernel, for a loss whose upstream gradient is
 *   known when the forward runs (a constant, as the root of backward).
 */
import { contiguousStrides } from '../util/shape.js';
import type { PlanView } from './plan.js';
import type { Backend, DType, RandomState, Storage, View } from './types.js';

/** A fused op of a plan (see the file's header). */
export type FusedOp =
  | {
      readonly op: 'linearAct';
      /** [rows, in]. */
      readonly x: PlanView;
      /** [in, out] (the transposed weight, read in place). */
      readonly w: PlanView;
      readonly bias?: PlanView;
      readonly act: 'relu' | 'none';
      readonly dropout?: {
        readonly p: number;
        readonly scale: number;
        readonly rng: RandomState;
        readonly mask: number;
      };
      /** [rows, out]. */
      readonly shape: readonly number[];
      readonly out: number;
      readonly dtype: DType;
    }
  | {
      readonly op: 'reluBackward';
      readonly g: PlanView;
      /** The layer's output (after dropout when there is a mask). */
      readonly y: PlanView;
      readonly mask?: PlanView;
      readonly out: number;
      /** Σ over rows of dz ([cols]), when the layer has a bias. */
      readonly biasGrad?: number;
      readonly dtype: DType;
    }
  | {
      readonly op: 'crossEntropyStep';
      /** Logits [N, C]. */
      readonly x: PlanView;
      /** int32 classes [N]. */
      readonly target: PlanView;
      /** The upstream gradient of each row's loss, [N] (stride 0 for a reduced loss). */
      readonly g: PlanView;
      readonly reduction: 'mean' | 'sum';
      /** The reduced loss, 0-d. */
      readonly loss: number;
      readonly dx: number;
      readonly dtype: DType;
    };

/** Runs a fused op through the backend's eager kernels (its definition). */
export function runFused(
  be: Backend,
  o: FusedOp,
  view: (v: PlanView) => View,
  define: (buffer: number, s: Storage) => void,
): void {
  const at = (storage: Storage, shape: readonly number[]): View => ({
    storage,
    shape,
    strides: contiguousStrides(shape),
    offset: 0,
  });
  switch (o.op) {
    case 'linearAct': {
      let y = be.matmul(view(o.x), view(o.w), o.shape, o.dtype, o.bias ? view(o.bias) : undefined);
      if (o.act === 'relu') y = be.unary('relu', at(y, o.shape), o.dtype);
      if (o.dropout) {
        const [out, mask] = be.dropout(at(y, o.shape), o.dropout.p, o.dropout.scale, o.dropout.rng);
        define(o.dropout.mask, mask);
        y = out;
      }
      define(o.out, y);
      return;
    }
    case 'reluBackward': {
      const y = view(o.y);
      const shape = y.shape;
      let g: View = view(o.g);
      if (o.mask) g = at(be.binary('mul', g, view(o.mask), shape, o.dtype), shape);
      const dz = be.binary('reluGrad', g, y, shape, o.dtype);
      define(o.out, dz);
      if (o.biasGrad !== undefined) define(o.biasGrad, be.reduce('sum', at(dz, shape), [0], o.dtype));
      return;
    }
    case 'crossEntropyStep': {
      const x = view(o.x);
      const n = x.shape[0];
      const [rows, probs] = be.softmaxCrossEntropy(x, view(o.target), o.dtype);
      const total = be.reduce('sum', at(rows, [n]), [0], 'float64');
      const count = be.fromHost(Float64Array.of(o.reduction === 'mean' ? Math.max(n, 1) : 1));
      define(o.loss, be.binary('div', at(total, []), at(count, []), [], o.dtype));
      const factor = o.reduction === 'mean' ? 1 / Math.max(n, 1) : 1;
      define(
        o.dx,
        be.softmaxCrossEntropyGrad(at(probs, x.shape), view(o.target), view(o.g), factor, o.dtype),
      );
      return;
    }
    default:
      o satisfies never;
  }
}

/** The buffers a fused op reads and writes. */
export function fusedBuffers(o: FusedOp): { reads: PlanView[]; writes: number[] } {
  switch (o.op) {
    case 'linearAct':
      return {
        reads: o.bias ? [o.x, o.w, o.bias] : [o.x, o.w],
        writes: o.dropout ? [o.out, o.dropout.mask] : [o.out],
      };
    case 'reluBackward':
      return {
        reads: o.mask ? [o.g, o.y, o.mask] : [o.g, o.y],
        writes: o.biasGrad !== undefined ? [o.out, o.biasGrad] : [o.out],
      };
    case 'crossEntropyStep':
      return { reads: [o.x, o.target, o.g], writes: [o.loss, o.dx] };
    default:
      return o satisfies never;
  }
}
