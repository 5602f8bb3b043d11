/**
 * Forward values and gradients against PyTorch (float64 goldens from test/golden/generate.py).
 * Each case: run the op on the same inputs, compare the output, then backpropagate sum(out · w)
 * with the same w and compare every input's gradient. The float32 path is checked too (forward and
 * gradients within float32 tolerance).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/index.js';
import * as k from '../src/index.js';
import { decode, type Encoded, expectClose } from './helpers.js';

interface Case {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: Encoded[];
  output: Encoded;
  weights?: Encoded;
  grads?: (Encoded | null)[];
}

const golden = JSON.parse(readFileSync(new URL('./golden/ops.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

// biome-ignore lint/suspicious/noExplicitAny: golden arguments are heterogeneous JSON
type Args = Record<string, any>;
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

function run(c: Case, dtype: 'float32' | 'float64') {
  const xs = c.inputs.map((e) => {
    const t = decode(e, e.dtype === 'float64' ? dtype : e.dtype);
    if (c.grads && e.dtype === 'float64') t.requiresGrad = true;
    return t;
  });
  const out = calls[c.op](xs, c.args);
  return { xs, out };
}

describe('golden values from PyTorch', () => {
  it('covers every op of the generator', () => {
    const missing = [...new Set(golden.cases.map((c) => c.op))].filter((op) => !(op in calls));
    expect(missing).toEqual([]);
    expect(golden.cases.length).toBeGreaterThan(100);
  });

  for (const c of golden.cases) {
    it(`${c.name} (float64)`, () => {
      const { xs, out } = run(c, 'float64');
      const expected = decode(c.output);
      if (c.output.dtype === 'float64') expect(out.dtype).toBe('float64');
      else expect(out.dtype).toBe(c.output.dtype);
      expectClose(out, expected, 1e-10, 1e-12);
      if (c.weights && c.grads) {
        k.sum(k.mul(out, decode(c.weights))).backward();
        c.grads.forEach((g, i) => {
          if (g) expectClose(xs[i].grad as Tensor, decode(g), 1e-9, 1e-12);
        });
      }
    });

    if (c.output.dtype === 'float64' && c.inputs.some((e) => e.dtype === 'float64')) {
      it(`${c.name} (float32)`, () => {
        const { xs, out } = run(c, 'float32');
        expect(out.dtype).toBe('float32');
        expectClose(out, decode(c.output), 1e-5, 1e-5);
        if (c.weights && c.grads) {
          k.sum(k.mul(out, decode(c.weights, 'float32'))).backward();
          c.grads.forEach((g, i) => {
            if (g) expectClose(xs[i].grad as Tensor, decode(g), 1e-4, 1e-4);
          });
        }
      });
    }
  }
});
