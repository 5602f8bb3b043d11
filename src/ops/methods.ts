/**
 * Installs the ops as Tensor methods (`x.mul(y).sum()`), so chained code reads like PyTorch. Each
 * method is a one-line forward to the function of the same name; the declarations below give them
 * types. Imported for its effect by the package index.
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
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    /** Backpropagates from this tensor; see `backward` in the autograd docs. */
    backward(gradient?: Tensor, opts?: Omit<BackwardOptions, 'gradient'>): void;
  }
}

const P = Tensor.prototype;
P.add = function (b) {
  return ew.add(this, b);
};
P.sub = function (b) {
  return ew.sub(this, b);
};
P.mul = function (b) {
  return ew.mul(this, b);
};
P.div = function (b) {
  return ew.div(this, b);
};
P.pow = function (b) {
  return ew.pow(this, b);
};
P.maximum = function (b) {
  return ew.maximum(this, b);
};
P.minimum = function (b) {
  return ew.minimum(this, b);
};
P.eq = function (b) {
  return ew.eq(this, b);
};
P.ne = function (b) {
  return ew.ne(this, b);
};
P.lt = function (b) {
  return ew.lt(this, b);
};
P.le = function (b) {
  return ew.le(this, b);
};
P.gt = function (b) {
  return ew.gt(this, b);
};
P.ge = function (b) {
  return ew.ge(this, b);
};
P.neg = function () {
  return ew.neg(this);
};
P.exp = function () {
  return ew.exp(this);
};
P.log = function () {
  return ew.log(this);
};
P.sqrt = function () {
  return ew.sqrt(this);
};
P.abs = function () {
  return ew.abs(this);
};
P.sign = function () {
  return ew.sign(this);
};
P.square = function () {
  return ew.square(this);
};
P.reciprocal = function () {
  return ew.reciprocal(this);
};
P.relu = function () {
  return ew.relu(this);
};
P.sigmoid = function () {
  return ew.sigmoid(this);
};
P.erf = function () {
  return ew.erf(this);
};
P.tanh = function () {
  return ew.tanh(this);
};
P.clamp = function (min, max) {
  return ew.clamp(this, min, max);
};
P.cast = function (dtype) {
  return ew.cast(this, dtype);
};
P.float = function () {
  return ew.cast(this, 'float32');
};
P.double = function () {
  return ew.cast(this, 'float64');
};
P.int = function () {
  return ew.cast(this, 'int32');
};
P.sum = function (axis, keepdim) {
  return rd.sum(this, axis, keepdim);
};
P.mean = function (axis, keepdim) {
  return rd.mean(this, axis, keepdim);
};
P.amax = function (axis, keepdim) {
  return rd.amax(this, axis, keepdim);
};
P.amin = function (axis, keepdim) {
  return rd.amin(this, axis, keepdim);
};
P.max = function (axis, keepdim) {
  return rd.amax(this, axis, keepdim);
};
P.min = function (axis, keepdim) {
  return rd.amin(this, axis, keepdim);
};
P.argmax = function (axis, keepdim) {
  return rd.argmax(this, axis, keepdim);
};
P.argmin = function (axis, keepdim) {
  return rd.argmin(this, axis, keepdim);
};
P.var = function (axis, opts) {
  return rd.variance(this, axis, opts);
};
P.std = function (axis, opts) {
  return rd.std(this, axis, opts);
};
P.logsumexp = function (axis, keepdim) {
  return rd.logsumexp(this, axis, keepdim);
};
P.softmax = function (axis) {
  return softmax(this, axis);
};
P.logSoftmax = function (axis) {
  return logSoftmax(this, axis);
};
P.matmul = function (b) {
  return matmul(this, b);
};
P.reshape = function (shape) {
  return sh.reshape(this, shape);
};
P.view = function (shape) {
  return sh.reshape(this, shape);
};
P.permute = function (dims) {
  return sh.permute(this, dims);
};
P.transpose = function (a, b) {
  return sh.transpose(this, a, b);
};
P.expand = function (shape) {
  return sh.expand(this, shape);
};
P.slice = function (axis, start, end, step) {
  return sh.slice(this, axis, start, end, step);
};
P.narrow = function (axis, start, length) {
  return sh.narrow(this, axis, start, length);
};
P.select = function (axis, index) {
  return sh.select(this, axis, index);
};
P.squeeze = function (axis) {
  return sh.squeeze(this, axis);
};
P.unsqueeze = function (axis) {
  return sh.unsqueeze(this, axis);
};
P.flatten = function (s, e) {
  return sh.flatten(this, s, e);
};
P.contiguous = function () {
  return sh.contiguous(this);
};
P.gather = function (axis, index) {
  return gather(this, axis, index);
};
P.indexSelect = function (axis, index) {
  return indexSelect(this, axis, index);
};
P.backward = function (gradient, opts) {
  backward(this, { ...opts, gradient });
};
