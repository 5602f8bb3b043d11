/**
 * The tracer: a `Backend` that wraps the active one while a compiled function runs for the first
 * time with a new signature. Every kernel call runs for real (so the traced call returns real
 * results) and is recorded as a plan op over buffers: the storages its kernels made ('temp'), the
 * call's arguments ('input', offsets relative to the argument) and every other storage it touched —
 * parameters, optimizer state, data sets, constants — by reference ('external'). Host steps
 * (`hostOp`) are recorded too. Reads and writes through storage doors are refused while tracing (a
 * plan cannot hold a value the host looked at); the generators a dropout kernel drew from are
 * restored if the trace fails, so a step that cannot be compiled can run eagerly as if untouched.
 */
import type { FusedOp } from '../backend/fused.js';
import type { KernelOp, PlanBuffer, PlanOp, PlanView } from '../backend/plan.js';
import type { Backend, DType, RandomState, Storage, View } from '../backend/types.js';
import { KeelError } from '../util/errors.js';
import { sizeOf } from '../util/shape.js';

/** A function cannot be compiled (the message names what it did that a plan cannot hold). */
export class CompileError extends KeelError {
  constructor(
    message: string,
    /** True when the failed trace had already changed state (a parameter, a host step). */
    readonly partial = false,
  ) {
    super(message);
  }
}

/** Where a storage sits among the plan's buffers: its buffer and the offset of element 0. */
interface Placed {
  readonly buffer: number;
  /** Subtracted from a view's offset: the argument's own offset for inputs, else 0. */
  readonly base: number;
}

/** A generator whose state can be saved and restored (keel's `Rng`). */
interface Restorable {
  getState(): number[];
  setState(s: readonly number[]): void;
}

function restorable(r: RandomState): r is RandomState & Restorable {
  const o = r as Partial<Restorable>;
  return typeof o.getState === 'function' && typeof o.setState === 'function';
}

/** Records the kernel calls of one run into a plan. */
export class Tracer implements Backend {
  readonly name: string;
  readonly buffers: PlanBuffer[] = [];
  readonly ops: PlanOp[] = [];
  private readonly placed = new Map<Storage, Placed>();
  private readonly rngStates = new Map<RandomState & Restorable, number[]>();

  constructor(readonly target: Backend) {
    this.name = target.name;
  }

  /** Registers argument `input` (a contiguous view) before the run. */
  input(input: number, v: View, dtype: DType): void {
    const id = this.buffers.length;
    this.buffers.push({ id, kind: 'input', dtype, length: sizeOf(v.shape), input });
    this.placed.set(v.storage, { buffer: id, base: v.offset });
  }

  /** The plan view of a view the traced code holds (its storage becomes an external if unknown). */
  view(v: View): PlanView {
    let p = this.placed.get(v.storage);
    if (!p) {
      const id = this.buffers.length;
      this.buffers.push({
        id,
        kind: 'external',
        dtype: v.storage.dtype,
        length: v.storage.length,
        storage: v.storage,
      });
      p = { buffer: id, base: 0 };
      this.placed.set(v.storage, p);
    }
    return { buffer: p.buffer, shape: [...v.shape], strides: [...v.strides], offset: v.offset - p.base };
  }

  /** Whether a storage is one of the plan's buffers made by a kernel of this trace. */
  isTemp(s: Storage): boolean {
    const p = this.placed.get(s);
    return p !== undefined && this.buffers[p.buffer].kind === 'temp';
  }

  /** The id of a storage's buffer, or undefined when the trace never saw it. */
  bufferOf(s: Storage): number | undefined {
    return this.placed.get(s)?.buffer;
  }

  /** A storage a kernel made: a new temp buffer. */
  private made(s: Storage): number {
    const id = this.buffers.length;
    this.buffers.push({ id, kind: 'temp', dtype: s.dtype, length: s.length });
    this.placed.set(s, { buffer: id, base: 0 });
    return id;
  }

  /** Records a host step (from `hostOp`). */
  host(fn: () => void): void {
    this.ops.push({ op: 'host', fn });
  }

  /** Records a fused op (the compile passes add them; the tracer itself records kernels). */
  fused(op: FusedOp): void {
    this.ops.push(op);
  }

  /** Puts back the generators the traced kernels drew from (after a failed trace). */
  restoreGenerators(): void {
    for (const [r, s] of this.rngStates) r.setState(s);
  }

  private refuseInput(v: View, what: string): void {
    const p = this.placed.get(v.storage);
    if (p && this.buffers[p.buffer].kind === 'input')
      throw new CompileError(
        `compile: the function writes into its argument ${(this.buffers[p.buffer] as { input: number }).input} in place (${what}); copy it first`,
      );
  }

  /** Records an op whose one output the target just made, and returns that output. */
  private one(out: Storage, op: (out: number) => KernelOp): Storage {
    this.ops.push(op(this.made(out)));
    return out;
  }

  /** The fields of a one-operand kernel's op. */
  private single<K extends string>(kind: K, x: View, out: number) {
    return { kind, x: this.view(x), out };
  }

  unary: Backend['unary'] = (kind, x, dtype) =>
    this.one(this.target.unary(kind, x, dtype), (out) => ({
      op: 'unary',
      ...this.single(kind, x, out),
      dtype,
    }));

  /** The fields of a two-operand kernel's op. */
  private pair(a: View, b: View, shape: readonly number[], out: number, dtype: DType) {
    return { a: this.view(a), b: this.view(b), shape: [...shape], out, dtype };
  }

  binary: Backend['binary'] = (kind, a, b, shape, dtype) =>
    this.one(this.target.binary(kind, a, b, shape, dtype), (out) => ({
      op: 'binary',
      kind,
      ...this.pair(a, b, shape, out, dtype),
    }));

  where: Backend['where'] = (cond, a, b, shape, dtype) =>
    this.one(this.target.where(cond, a, b, shape, dtype), (out) => ({
      op: 'where',
      cond: this.view(cond),
      ...this.pair(a, b, shape, out, dtype),
    }));

  reduce: Backend['reduce'] = (kind, x, axes, dtype) =>
    this.one(this.target.reduce(kind, x, axes, dtype), (out) => ({
      op: 'reduce',
      ...this.single(kind, x, out),
      axes: [...axes],
      dtype,
    }));

  argReduce: Backend['argReduce'] = (kind, x, axis) =>
    this.one(this.target.argReduce(kind, x, axis), (out) => ({
      op: 'argReduce',
      ...this.single(kind, x, out),
      axis,
    }));

  matmul: Backend['matmul'] = (a, b, shape, dtype, bias) =>
    this.one(this.target.matmul(a, b, shape, dtype, bias), (out) => ({
      op: 'matmul',
      ...this.pair(a, b, shape, out, dtype),
      ...(bias ? { bias: this.view(bias) } : {}),
    }));

  /** gather or indexSelect: the same arguments, recorded alike. */
  private picks(op: 'gather' | 'indexSelect'): Backend['gather'] {
    return (x, axis, index, dtype) =>
      this.one(this.target[op](x, axis, index, dtype), (out) => ({
        op,
        x: this.view(x),
        axis,
        index: this.view(index),
        out,
        dtype,
      }));
  }

  /** scatterAdd or indexAdd: the same arguments, recorded alike. */
  private adds(op: 'scatterAdd' | 'indexAdd'): Backend['scatterAdd'] {
    return (shape, axis, index, src, dtype) =>
      this.one(this.target[op](shape, axis, index, src, dtype), (out) => ({
        op,
        shape: [...shape],
        axis,
        index: this.view(index),
        src: this.view(src),
        out,
        dtype,
      }));
  }

  gather = this.picks('gather');
  indexSelect = this.picks('indexSelect');
  scatterAdd = this.adds('scatterAdd');
  indexAdd = this.adds('indexAdd');

  copyInto: Backend['copyInto'] = (dst, src) => {
    this.refuseInput(dst, 'copyInto');
    this.target.copyInto(dst, src);
    this.ops.push({ op: 'copyInto', dst: this.view(dst), src: this.view(src) });
  };

  dropout: Backend['dropout'] = (x, p, scale, rng) => {
    if (restorable(rng) && !this.rngStates.has(rng)) this.rngStates.set(rng, rng.getState());
    const [out, mask] = this.target.dropout(x, p, scale, rng);
    this.ops.push({
      op: 'dropout',
      x: this.view(x),
      p,
      scale,
      rng,
      out: this.made(out),
      mask: this.made(mask),
    });
    return [out, mask];
  };

  random: Backend['random'] = (kind, shape, dtype, a, b, rng) => {
    if (restorable(rng) && !this.rngStates.has(rng)) this.rngStates.set(rng, rng.getState());
    return this.one(this.target.random(kind, shape, dtype, a, b, rng), (out) => ({
      op: 'random',
      kind,
      shape: [...shape],
      dtype,
      a,
      b,
      rng,
      out,
    }));
  };

  axpy: Backend['axpy'] = (y, alpha, x) => {
    this.refuseInput(y, 'axpy');
    this.target.axpy(y, alpha, x);
    this.ops.push({ op: 'axpy', y: this.view(y), alpha, x: this.view(x) });
  };

  optimizerStep: Backend['optimizerStep'] = (family, w, g, state, h) => {
    this.refuseInput(w, 'optimizerStep');
    this.target.optimizerStep(family, w, g, state, h);
    this.ops.push({
      op: 'optimizerStep',
      family,
      w: this.view(w),
      g: this.view(g),
      state: state.map((s) => this.view(s)),
      h,
    });
  };

  fromHost: Backend['fromHost'] = (array) => this.target.fromHost(array);

  softmaxCrossEntropy: Backend['softmaxCrossEntropy'] = (x, target, dtype) => {
    const [loss, probs] = this.target.softmaxCrossEntropy(x, target, dtype);
    this.ops.push({
      op: 'softmaxCrossEntropy',
      x: this.view(x),
      target: this.view(target),
      loss: this.made(loss),
      probs: this.made(probs),
      dtype,
    });
    return [loss, probs];
  };

  softmaxCrossEntropyGrad: Backend['softmaxCrossEntropyGrad'] = (probs, target, g, factor, dtype) =>
    this.one(this.target.softmaxCrossEntropyGrad(probs, target, g, factor, dtype), (out) => ({
      op: 'softmaxCrossEntropyGrad',
      probs: this.view(probs),
      target: this.view(target),
      g: this.view(g),
      factor,
      out,
      dtype,
    }));
}
