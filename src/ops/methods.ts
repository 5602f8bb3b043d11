/**
 * Installs the ops as Tensor methods (`x.mul(y).sum()`), so chained code reads like PyTorch. The
 * declarations below give the methods their types; one table, exhaustive over them, names the op
 * each forwards to (the tensor as first argument), and a loop installs them. Imported for its
 * effect by the package index.
 */

import { type BackwardOptions, backward } from '../autograd/engine.js';
import type { DType } from '../backend/types.js';
import { Tensor } from '../tensor/tensor.js';
import { logSoftmax, softmax } from './activation.js';
import type { Operand } from './core.js';
import * as ew from './elementwise.js';
import { gather, indexSelect } from './indexing.js';
import { matmul } from './matmul.js';
import type { Axes, VarOptions } from './reduce.js';
import * as rd from './reduce.js';
import * as sh from './shape.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(b: Operand): Tensor;
    sub(b: Operand): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand): Tensor;
    pow(b: Operand): Tensor;
    maximum(b: Operand): Tensor;
    minimum(b: Operand): Tensor;
    eq(b: Operand): Tensor;
    ne(b: Operand): Tensor;
    lt(b: Operand): Tensor;
    le(b: Operand): Tensor;
    gt(b: Operand): Tensor;
    ge(b: Operand): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    erf(): Tensor;
    clamp(min?: number, max?: number): Tensor;
    cast(dtype: DType): Tensor;
    float(): Tensor;
    double(): Tensor;
    int(): Tensor;
    sum(axis?: Axes, keepdim?: boolean): Tensor;
    mean(axis?: Axes, keepdim?: boolean): Tensor;
    amax(axis?: Axes, keepdim?: boolean): Tensor;
    amin(axis?: Axes, keepdim?: boolean): Tensor;
    max(axis?: Axes, keepdim?: boolean): Tensor;
    min(axis?: Axes, keepdim?: boolean): Tensor;
    argmax(axis?: number, keepdim?: boolean): Tensor;
    argmin(axis?: number, keepdim?: boolean): Tensor;
    var(axis?: Axes, opts?: VarOptions): Tensor;
    std(axis?: Axes, opts?: VarOptions): Tensor;
    logsumexp(axis?: Axes, keepdim?: boolean): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    matmul(b: Tensor): Tensor;
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(a?: number, b?: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    slice(axis: number, start?: number, end?: number, step?: number): Tensor;
    narrow(axis: number, start: number, length: number): Tensor;
    select(axis: number, index: number): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    unsqueeze(axis: number): Tensor;
    flatten(startAxis?: number, endAxis?: number): Tensor;
    contiguous(): Tensor;
    /** A copy in memory of its own (see `clone`). */
    clone(): Tensor;
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    /** Backpropagates from this tensor; see `backward` in the autograd docs. */
    backward(gradient?: Tensor, opts?: Omit<BackwardOptions, 'gradient'>): void;
  }
}

/** Every method: the function it forwards to, with the tensor as first argument (exhaustive by type). */
type MethodName = Exclude<keyof Tensor & string, NonMethods>;
type NonMethods =
  | 'grad'
  | 'gradFn'
  | 'name'
  | 'storage'
  | 'shape'
  | 'dtype'
  | 'strides'
  | 'offset'
  | 'size'
  | 'ndim'
  | 'isLeaf'
  | 'requiresGrad'
  | 'requiresGrad_'
  | 'retainGrad'
  | 'isContiguous'
  | 'detach'
  | 'readSync'
  | 'readInto'
  | 'read'
  | 'toArray'
  | 'item'
  | 'toString';
type Method<K extends MethodName> = Tensor[K] extends (...a: infer A) => infer R
  ? (self: Tensor, ...a: A) => R
  : never;

const methods: { [K in MethodName]: Method<K> } = {
  add: ew.add,
  sub: ew.sub,
  mul: ew.mul,
  div: ew.div,
  pow: ew.pow,
  maximum: ew.maximum,
  minimum: ew.minimum,
  eq: ew.eq,
  ne: ew.ne,
  lt: ew.lt,
  le: ew.le,
  gt: ew.gt,
  ge: ew.ge,
  neg: ew.neg,
  exp: ew.exp,
  log: ew.log,
  sqrt: ew.sqrt,
  abs: ew.abs,
  sign: ew.sign,
  square: ew.square,
  reciprocal: ew.reciprocal,
  relu: ew.relu,
  sigmoid: ew.sigmoid,
  tanh: ew.tanh,
  erf: ew.erf,
  clamp: ew.clamp,
  cast: ew.cast,
  float: (t) => ew.cast(t, 'float32'),
  double: (t) => ew.cast(t, 'float64'),
  int: (t) => ew.cast(t, 'int32'),
  sum: rd.sum,
  mean: rd.mean,
  amax: rd.amax,
  amin: rd.amin,
  max: rd.amax,
  min: rd.amin,
  argmax: rd.argmax,
  argmin: rd.argmin,
  var: rd.variance,
  std: rd.std,
  logsumexp: rd.logsumexp,
  softmax,
  logSoftmax,
  matmul,
  reshape: sh.reshape,
  view: sh.reshape,
  permute: sh.permute,
  transpose: sh.transpose,
  expand: sh.expand,
  slice: sh.slice,
  narrow: sh.narrow,
  select: sh.select,
  squeeze: sh.squeeze,
  unsqueeze: sh.unsqueeze,
  flatten: sh.flatten,
  contiguous: sh.contiguous,
  clone: sh.clone,
  gather,
  indexSelect,
  backward: (t, gradient, opts) => backward(t, { ...opts, gradient }),
};

const P = Tensor.prototype as unknown as Record<string, (this: Tensor, ...a: unknown[]) => unknown>;
for (const [name, fn] of Object.entries(methods) as [string, (self: Tensor, ...a: unknown[]) => unknown][])
  P[name] = function (this: Tensor, ...a: unknown[]) {
    return fn(this, ...a);
  };
