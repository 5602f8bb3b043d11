/**
 * Forward values and gradients against PyTorch (float64 goldens from test/golden/generate.py).
 * Each case: run the op on the same inputs, compare the output, then backpropagate sum(out · w)
 * with the same w and compare every input's gradient. The float32 path is checked too (forward and
 * gradients within float32 tolerance).
 */
import type { Tensor } from '../src/index.js';
import * as k from '../src/index.js';
import { type Args, goldenSuite } from './helpers.js';

const axisArg = (a: Args) => (a.axis === null ? undefined : a.axis);

/** How each golden op is called in keel. */
const calls: Record<string, (xs: Tensor[], a: Args) => Tensor> = {
  add: ([x, y]) => k.add(x, y),
  sub: ([x, y]) => k.sub(x, y),
  mul: ([x, y]) => k.mul(x, y),
  div: ([x, y]) => k.div(x, y),
  pow: ([x, y]) => k.pow(x, y),
  maximum: ([x, y]) => k.maximum(x, y),
  minimum: ([x, y]) => k.minimum(x, y),
  neg: ([x]) => k.neg(x),
  exp: ([x]) => k.exp(x),
  log: ([x]) => k.log(x),
  sqrt: ([x]) => k.sqrt(x),
  abs: ([x]) => k.abs(x),
  sign: ([x]) => k.sign(x),
  relu: ([x]) => k.relu(x),
  sigmoid: ([x]) => k.sigmoid(x),
  tanh: ([x]) => k.tanh(x),
  erf: ([x]) => k.erf(x),
  clamp: ([x], a) => k.clamp(x, a.min, a.max),
  eq: ([x, y]) => k.eq(x, y),
  ne: ([x, y]) => k.ne(x, y),
  lt: ([x, y]) => k.lt(x, y),
  le: ([x, y]) => k.le(x, y),
  gt: ([x, y]) => k.gt(x, y),
  ge: ([x, y]) => k.ge(x, y),
  where: ([c, x, y]) => k.where(c, x, y),
  sum: ([x], a) => k.sum(x, axisArg(a), a.keepdim),
  mean: ([x], a) => k.mean(x, axisArg(a), a.keepdim),
  amax: ([x], a) => k.amax(x, axisArg(a), a.keepdim),
  amin: ([x], a) => k.amin(x, axisArg(a), a.keepdim),
  logsumexp: ([x], a) => k.logsumexp(x, axisArg(a), a.keepdim),
  var: ([x], a) => k.variance(x, axisArg(a), { keepdim: a.keepdim, correction: a.correction ?? 1 }),
  argmax: ([x], a) => k.argmax(x, axisArg(a)),
  argmin: ([x], a) => k.argmin(x, axisArg(a)),
  matmul: ([x, y]) => k.matmul(x, y),
  reshape: ([x], a) => k.reshape(x, a.shape),
  permute: ([x], a) => k.permute(x, a.dims),
  transpose: ([x], a) => k.transpose(x, a.a, a.b),
  expand: ([x], a) => k.expand(x, a.shape),
  slice: ([x], a) => k.slice(x, a.axis, a.start, a.end, a.step),
  narrow: ([x], a) => k.narrow(x, a.axis, a.start, a.length),
  squeeze: ([x]) => k.squeeze(x),
  unsqueeze: ([x], a) => k.unsqueeze(x, a.axis),
  flatten: ([x], a) => k.flatten(x, a.startAxis),
  concat: (xs, a) => k.concat(xs, a.axis),
  stack: (xs, a) => k.stack(xs, a.axis),
  split: ([x], a) =>
    k
      .split(x, a.size, a.axis)
      .map((p, i) => k.sum(k.mul(p, i + 1)))
      .reduce((s, t) => k.add(s, t)),
  gather: ([x, i], a) => k.gather(x, a.axis, i),
  scatterAdd: ([x, i, s], a) => k.scatterAdd(x, a.axis, i, s),
  indexSelect: ([x, i], a) => k.indexSelect(x, a.axis, i),
  indexAdd: ([x, i, s], a) => k.indexAdd(x, a.axis, i, s),
  oneHot: ([i], a) => k.oneHot(i, a.numClasses, 'float64'),
  softmax: ([x], a) => k.softmax(x, a.axis),
  logSoftmax: ([x], a) => k.logSoftmax(x, a.axis),
};

goldenSuite('golden values from PyTorch: ops', 'ops.json', calls);
