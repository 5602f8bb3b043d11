/**
 * Fused kernels of plans, each defined by the eager composite it replaces — which is also how a
 * backend without a kernel of its own runs it (`runFused`, over the `Backend` kernels) and the
 * oracle its kernels are tested against (the CPU kernels give the composite's bits):
 *
 * - `linearAct`: the linear layer's forward with its epilogue: t = x·W with the bias starting each
 *   row (as the eager matmul does, so sums round alike), h = relu(t), and with dropout
 *   [y, mask] = dropout(h) — relu and dropout in one pass over the product. `hidden` keeps h when
 *   dropout follows (relu's backward needs it).
 * - `reluBackward`: dz = reluGrad(g ⊙ mask, h) = where(h > 0, g ⊙ mask, 0) (no mask: g), and the
 *   bias gradient Σ_rows dz (float64 sums rounded once) in the same pass.
 * - `crossEntropyStep`: softmax cross-entropy's forward (the reduced loss) and its backward
 *   (dx = factor·g·(softmax(x) − onehot(t))) in one kernel, for a loss whose upstream gradient is
 *   known when the forward runs (a constant, as the root of backward).
 * - `gatherPixels`: a batch of images gathered from their stored bytes and made floats in the same
 *   pass: out = div(cast(indexSelect(x, 0, index), float32), divisor) (x uint8 rows; ImageDataset).
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
      /** relu's output h, kept when dropout follows it. */
      readonly hidden?: number;
      /** [rows, out]. */
      readonly shape: readonly number[];
      readonly out: number;
      readonly dtype: DType;
    }
  | {
      readonly op: 'reluBackward';
      readonly g: PlanView;
      /** relu's output h. */
      readonly h: PlanView;
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
    }
  | {
      readonly op: 'gatherPixels';
      /** uint8 rows [N, …], row-major. */
      readonly x: PlanView;
      /** int32 rows to take [B]. */
      readonly index: PlanView;
      /** What each byte is divided by (255: pixels in [0, 1]). */
      readonly divisor: number;
      /** float32 [B, …]. */
      readonly out: number;
      readonly dtype: 'float32';
    };

/** The names of the fused ops (what tells them from the kernel ops of a plan). */
const FUSED_OPS: ReadonlySet<string> = new Set<FusedOp['op']>([
  'linearAct',
  'reluBackward',
  'crossEntropyStep',
  'gatherPixels',
]);

/** Whether a plan's op is a fused one. */
export function isFused<T extends { readonly op: string }>(o: T | FusedOp): o is FusedOp {
  return FUSED_OPS.has(o.op);
}

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
      if (o.hidden !== undefined) define(o.hidden, y);
      if (o.dropout) {
        const [out, mask] = be.dropout(at(y, o.shape), o.dropout.p, o.dropout.scale, o.dropout.rng);
        define(o.dropout.mask, mask);
        y = out;
      }
      define(o.out, y);
      return;
    }
    case 'reluBackward': {
      const h = view(o.h);
      const shape = h.shape;
      let g: View = view(o.g);
      if (o.mask) g = at(be.binary('mul', g, view(o.mask), shape, o.dtype), shape);
      const dz = be.binary('reluGrad', g, h, shape, o.dtype);
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
    case 'gatherPixels': {
      const x = view(o.x);
      const shape = [o.index.shape[0] ?? 1, ...x.shape.slice(1)];
      const bytes = be.indexSelect(x, 0, view(o.index), 'uint8');
      const floats = be.unary('copy', at(bytes, shape), 'float32');
      // The divisor broadcast over the batch, as the eager div by a scalar reads it.
      const d: View = {
        storage: be.fromHost(Float32Array.of(o.divisor)),
        shape,
        strides: shape.map(() => 0),
        offset: 0,
      };
      define(o.out, be.binary('div', at(floats, shape), d, shape, 'float32'));
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
        writes: [
          o.out,
          ...(o.dropout ? [o.dropout.mask] : []),
          ...(o.hidden !== undefined ? [o.hidden] : []),
        ],
      };
    case 'reluBackward':
      return {
        reads: o.mask ? [o.g, o.h, o.mask] : [o.g, o.h],
        writes: o.biasGrad !== undefined ? [o.out, o.biasGrad] : [o.out],
      };
    case 'crossEntropyStep':
      return { reads: [o.x, o.target, o.g], writes: [o.loss, o.dx] };
    case 'gatherPixels':
      return { reads: [o.x, o.index], writes: [o.out] };
    default:
      return o satisfies never;
  }
}
