/**
 * A plan: a computation recorded once (by the compile layer's tracer) as data that a backend
 * replays — buffers, and kernel calls over views of them with fixed shapes, strides and scalars,
 * in order. Every op mirrors a `Backend` kernel (same arguments, outputs named by buffer), plus host
 * steps (JS state a computation advances, e.g. an optimizer's step count: `hostOp`) and the fused
 * kernels the compile layer's passes put in (fused.ts, each defined by the eager composite it
 * replaces). A backend executes a plan through `prepare` (`PlanRunner`): the CPU backends bind each
 * call to fixed places in one arena once, a GPU backend would encode it into one command buffer.
 * Buffers are 'temp' (made by an op of the plan), 'input' (argument i of each run, contiguous) or
 * 'external' (a storage the plan reads — and may update in place, as parameters — by reference).
 */
import type { DType } from '../util/dtype.js';
import type { RandomKind } from '../util/random.js';
import { isRowMajor, sizeOf } from '../util/shape.js';
import { type FusedOp, fusedBuffers, isFused } from './fused.js';
import type { OptimizerFamily } from './optimizer.js';
import type { BinaryOp, RandomState, ReduceOp, Storage, UnaryOp, View, Window } from './types.js';

/** One buffer of a plan. */
export type PlanBuffer =
  | { readonly id: number; readonly kind: 'temp'; readonly dtype: DType; readonly length: number }
  | {
      readonly id: number;
      readonly kind: 'input';
      readonly dtype: DType;
      readonly length: number;
      /** The argument's position. */
      readonly input: number;
    }
  | {
      readonly id: number;
      readonly kind: 'external';
      readonly dtype: DType;
      readonly length: number;
      readonly storage: Storage;
    };

/** A strided window onto a plan buffer (strides and offset in elements). */
export interface PlanView extends Window {
  readonly buffer: number;
}

/** Kernels of two operands a and b broadcast to (or multiplied into) an output of `shape`. */
interface Pairwise {
  readonly a: PlanView;
  readonly b: PlanView;
  readonly shape: readonly number[];
  readonly out: number;
  readonly dtype: DType;
}

/** gather and indexSelect: entries of x taken along an axis at an index. */
interface Picks<K extends 'gather' | 'indexSelect'> {
  readonly op: K;
  readonly x: PlanView;
  readonly axis: number;
  readonly index: PlanView;
  readonly out: number;
  readonly dtype: DType;
}

/** scatterAdd and indexAdd: src added into zeros of `shape` at an index along an axis. */
interface Adds<K extends 'scatterAdd' | 'indexAdd'> {
  readonly op: K;
  readonly shape: readonly number[];
  readonly axis: number;
  readonly index: PlanView;
  readonly src: PlanView;
  readonly out: number;
  readonly dtype: DType;
}

/** A kernel call of a plan: one per `Backend` kernel, with outputs named by buffer id. */
export type KernelOp =
  | {
      readonly op: 'unary';
      readonly kind: UnaryOp;
      readonly x: PlanView;
      readonly out: number;
      readonly dtype: DType;
    }
  | (Pairwise & { readonly op: 'binary'; readonly kind: BinaryOp })
  | (Pairwise & { readonly op: 'where'; readonly cond: PlanView })
  | {
      readonly op: 'reduce';
      readonly kind: ReduceOp;
      readonly x: PlanView;
      readonly axes: readonly number[];
      readonly out: number;
      readonly dtype: DType;
    }
  | {
      readonly op: 'argReduce';
      readonly kind: 'argmax' | 'argmin';
      readonly x: PlanView;
      readonly axis: number;
      readonly out: number;
    }
  | (Pairwise & { readonly op: 'matmul'; readonly bias?: PlanView })
  | Picks<'gather'>
  | Picks<'indexSelect'>
  | Adds<'scatterAdd'>
  | Adds<'indexAdd'>
  | { readonly op: 'copyInto'; readonly dst: PlanView; readonly src: PlanView }
  | {
      readonly op: 'dropout';
      readonly x: PlanView;
      readonly p: number;
      readonly scale: number;
      /** Drawn from at every run (two words: the key of the mask). */
      readonly rng: RandomState;
      readonly out: number;
      readonly mask: number;
    }
  | {
      readonly op: 'random';
      readonly kind: RandomKind;
      readonly shape: readonly number[];
      readonly dtype: DType;
      readonly a: number;
      readonly b: number;
      /** Drawn from at every run (two words: the key of the draws). */
      readonly rng: RandomState;
      readonly out: number;
    }
  | { readonly op: 'axpy'; readonly y: PlanView; readonly alpha: number; readonly x: PlanView }
  | {
      readonly op: 'optimizerStep';
      readonly family: OptimizerFamily;
      readonly w: PlanView;
      readonly g: PlanView;
      readonly state: readonly PlanView[];
      /** Read at every run (a host step of the optimizer refreshes it before). */
      readonly h: Float64Array;
    }
  | {
      readonly op: 'softmaxCrossEntropy';
      readonly x: PlanView;
      readonly target: PlanView;
      readonly loss: number;
      readonly probs: number;
      readonly dtype: DType;
    }
  | {
      readonly op: 'softmaxCrossEntropyGrad';
      readonly probs: PlanView;
      readonly target: PlanView;
      readonly g: PlanView;
      readonly factor: number;
      readonly out: number;
      readonly dtype: DType;
    };

/** JS state a computation advances, run at its place in every replay. */
export interface HostStep {
  readonly op: 'host';
  readonly fn: () => void;
}

/** One step of a plan. */
export type PlanOp = KernelOp | FusedOp | HostStep;

/** A recorded computation. */
export interface Plan {
  readonly buffers: readonly PlanBuffer[];
  readonly ops: readonly PlanOp[];
  /** Views the caller reads after each run (returned tensors, gradients of leaves). */
  readonly outputs: readonly PlanView[];
}

/** Runs a plan again and again on a backend. */
export interface PlanRunner {
  /**
   * Runs the plan once with `inputs` (one contiguous view per 'input' buffer, in argument order;
   * same shapes and dtypes as traced).
   */
  run(inputs: readonly View[]): void;
  /**
   * Where a plan view's elements are after a run. When `stable`, the same storage at every run (an
   * arena slot), so tensors made over it once stay current.
   */
  view(v: PlanView): View;
  readonly stable: boolean;
  /** Releases what the runner holds (arena regions); storages it handed out become unreadable. */
  dispose(): void;
}

/** Whether a view covers its whole buffer, row-major from element 0. */
export function wholeView(plan: Plan, v: PlanView): boolean {
  return v.offset === 0 && sizeOf(v.shape) === plan.buffers[v.buffer].length && isRowMajor(v);
}

/** The buffers an op of any kind reads and writes (in place or as outputs; host steps: none). */
export function opAccesses(o: PlanOp): { reads: PlanView[]; writes: number[] } {
  if (o.op === 'host') return { reads: [], writes: [] };
  if (isFused(o)) return fusedBuffers(o);
  return kernelBuffers(o);
}

/** The buffers a kernel op reads and writes (in place or as outputs). */
function kernelBuffers(o: KernelOp): { reads: PlanView[]; writes: number[] } {
  switch (o.op) {
    case 'unary':
      return { reads: [o.x], writes: [o.out] };
    case 'binary':
      return { reads: [o.a, o.b], writes: [o.out] };
    case 'where':
      return { reads: [o.cond, o.a, o.b], writes: [o.out] };
    case 'reduce':
    case 'argReduce':
      return { reads: [o.x], writes: [o.out] };
    case 'matmul':
      return { reads: o.bias ? [o.a, o.b, o.bias] : [o.a, o.b], writes: [o.out] };
    case 'gather':
    case 'indexSelect':
      return { reads: [o.x, o.index], writes: [o.out] };
    case 'scatterAdd':
    case 'indexAdd':
      return { reads: [o.index, o.src], writes: [o.out] };
    case 'copyInto':
      return { reads: [o.src], writes: [o.dst.buffer] };
    case 'dropout':
      return { reads: [o.x], writes: [o.out, o.mask] };
    case 'random':
      return { reads: [], writes: [o.out] };
    case 'axpy':
      return { reads: [o.y, o.x], writes: [o.y.buffer] };
    case 'optimizerStep':
      return { reads: [o.w, o.g, ...o.state], writes: [o.w.buffer, ...o.state.map((s) => s.buffer)] };
    case 'softmaxCrossEntropy':
      return { reads: [o.x, o.target], writes: [o.loss, o.probs] };
    case 'softmaxCrossEntropyGrad':
      return { reads: [o.probs, o.target, o.g], writes: [o.out] };
    default:
      return o satisfies never;
  }
}
