/**
 * The Tensor: a strided view (shape, strides, offset) onto a storage its backend owns, with a dtype,
 * plus autograd state (`requiresGrad`, `grad`, `gradFn`). Views share the storage. The elements are
 * reached only through the storage's doors — `readSync()`/`read()` copy them into host memory,
 * `item()` reads one — so layers above never depend on where a backend keeps them. This file holds
 * what needs no op; arithmetic, shape methods and `backward` are installed by ops/methods.ts (so
 * the layering util ← backend ← tensor ← autograd ← ops holds). A tensor's `gradFn` is typed by the
 * `GradFn` interface below, which autograd/node.ts fills in with its graph node by declaration
 * merging: this layer names no type of the one above it.
 */

import type { Storage, View } from '../backend/types.js';
import { arrayType, type DType, type TypedArray } from '../util/dtype.js';
import { AutogradError, DTypeError, fmtShape, ValueError } from '../util/errors.js';
import { contiguousStrides, sizeOf } from '../util/shape.js';
import { isFloat } from './dtype.js';
import { formatValues } from './format.js';

/**
 * The graph node that produced a tensor, as this layer sees it; autograd/node.ts merges its
 * `GradNode` into this interface.
 */
export interface GradFn {
  /** Tensor whose `.grad` backward sets when it reaches this node (`retainGrad`). */
  retained: Tensor | null;
}

/**
 * @internal `t.grad` as keel's own code reads it: without counting as a read by the user, which
 * keeps a gradient from going back to the pool when `zeroGrad()` drops it.
 */
export let peekGrad: (t: Tensor) => Tensor | null;
/**
 * @internal Marks `g` (t's `.grad`) as made by a backward sweep for t alone; setting `.grad` to
 * anything else clears the mark.
 */
export let setOwnGrad: (t: Tensor, g: Tensor) => void;
/** @internal Whether t's `.grad` is its own (`setOwnGrad`) and no code outside keel read it. */
export let ownsUnreadGrad: (t: Tensor) => boolean;

/** Nested JS arrays as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/** A multi-dimensional array with reverse-mode automatic differentiation. */
export class Tensor implements View {
  #grad: Tensor | null = null;
  /** Whether code outside keel's internals read `.grad` since it was last set (see `peekGrad`). */
  #gradRead = false;
  /** The gradient a backward sweep made for this leaf alone (`setOwnGrad`), while it is `.grad`. */
  #ownGrad: Tensor | null = null;

  /**
   * Gradient accumulated by `backward()` (leaves, and tensors that called `retainGrad()`). A
   * gradient nobody read before `zeroGrad()` dropped it goes back to the memory pool at once.
   */
  get grad(): Tensor | null {
    this.#gradRead = true;
    return this.#grad;
  }

  set grad(g: Tensor | null) {
    this.#grad = g;
    this.#gradRead = false;
    if (g !== this.#ownGrad) this.#ownGrad = null;
  }

  static {
    peekGrad = (t) => t.#grad;
    setOwnGrad = (t, g) => {
      t.#ownGrad = g;
    };
    ownsUnreadGrad = (t) => t.#ownGrad !== null && t.#ownGrad === t.#grad && !t.#gradRead;
  }
  /** The graph node that produced this tensor; null for leaves and tensors made without gradients. */
  gradFn: GradFn | null = null;
  /** Optional name shown in graph pictures. */
  name: string | undefined;
  private leafRequiresGrad = false;

  /** @internal Use `tensor()`, `zeros()`, ... to create tensors. */
  constructor(
    /** The elements, owned by the backend that made them (read them with `readSync()`). */
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {}

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True when this tensor is a leaf of the graph (created by the user, not by an op recording a node). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Whether gradients flow to this tensor: set on leaves, inherited by results of ops. */
  get requiresGrad(): boolean {
    return this.leafRequiresGrad || this.gradFn !== null;
  }

  set requiresGrad(on: boolean) {
    if (this.gradFn !== null) {
      throw new AutogradError(
        `requiresGrad can only be changed on leaf tensors; this tensor was produced by '${this.gradFn.op}' (use detach())`,
      );
    }
    if (on && !isFloat(this.dtype)) {
      throw new DTypeError(
        `requiresGrad: only float32/float64 tensors can require gradients, got ${this.dtype}`,
      );
    }
    this.leafRequiresGrad = on;
  }

  /** Sets `requiresGrad` and returns this tensor. */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** Keeps `.grad` on this non-leaf tensor during backward. */
  retainGrad(): this {
    if (this.gradFn) this.gradFn.retained = this;
    return this;
  }

  /** True when the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    const cs = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === cs[i]);
  }

  /** A tensor sharing this one's storage, cut from the graph (no gradients flow through it). */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.dtype, this.strides, this.offset);
  }

  /** The elements in row-major order, copied into a new host typed array of this dtype. */
  readSync(): TypedArray {
    return this.storage.readSync(this);
  }

  /**
   * The elements in row-major order, copied into `out` — a typed array of this dtype's kind
   * (`Float32Array` for float32, …) at least `size` long — and `out` returned: a read that makes no
   * new host array, for code that reads the same tensor again and again (diagnostics, drawings).
   * Where the backend reads only asynchronously it refuses, as `readSync()` does.
   */
  readInto<T extends TypedArray>(out: T): T {
    const want = arrayType(this.dtype);
    if (!(out instanceof want) || out.length < this.size) {
      const got = `${out?.constructor?.name ?? typeof out}${out && 'length' in out ? ` of ${out.length}` : ''}`;
      throw new ValueError(
        `readInto: out must be a ${want.name} of at least ${this.size} elements (a ${this.dtype} tensor of shape ${fmtShape(this.shape)}); got a ${got}`,
      );
    }
    if (this.storage.readInto) this.storage.readInto(this, out);
    else out.set(this.storage.readSync(this));
    return out;
  }

  /** The same as `readSync()`, for backends whose memory can only be read asynchronously (GPUs). */
  read(): Promise<TypedArray> {
    return this.storage.read(this);
  }

  /** Elements as nested JS arrays (numbers, or booleans for bool tensors); a 0-d tensor gives a scalar. */
  toArray(): NestedArray {
    const flat = this.readSync();
    const conv = this.dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
    let i = 0;
    const build = (dim: number): NestedArray => {
      if (dim === this.shape.length) return conv(flat[i++]);
      return Array.from({ length: this.shape[dim] }, () => build(dim + 1));
    };
    return build(0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ValueError(
        `item: only one-element tensors can be converted to a number, got shape ${fmtShape(this.shape)}`,
      );
    }
    return this.storage.readElement(this.offset);
  }

  /** Text like `tensor([[1., 2.], [3., 4.]], dtype=float64, gradFn=<mul>)`. */
  toString(): string {
    const body = formatValues(this.readSync(), this.shape, this.dtype, 'tensor('.length);
    const extras: string[] = [];
    if (this.dtype !== 'float32') extras.push(`dtype=${this.dtype}`);
    if (this.size === 0) extras.push(`shape=${fmtShape(this.shape)}`);
    if (this.gradFn) extras.push(`gradFn=<${this.gradFn.op}>`);
    else if (this.requiresGrad) extras.push('requiresGrad=true');
    return `tensor(${[body, ...extras].join(', ')})`;
  }

  /** Node's util.inspect uses the same text as toString. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
