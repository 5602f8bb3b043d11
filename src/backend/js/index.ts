/**
 * The `js` backend: the reference implementation of every kernel (float32 and float64, plus int32
 * and bool where meaningful). Plain TypeScript over host typed arrays (host.ts); the living spec
 * that faster backends are tested against. The kernels compute on host views and return arrays;
 * this table turns the backend seam's storages into host views and the results into storages.
 */
import { type HostView, hostArray, hostView as hv, wrap } from '../host.js';
import type { Backend, View } from '../types.js';
import { axpy } from './axpy.js';
import { softmaxCrossEntropy, softmaxCrossEntropyGrad } from './crossentropy.js';
import { dropout, random } from './dropout.js';
import { binary, copyInto, unary, where } from './elementwise.js';
import { gather, indexAdd, indexSelect, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { optimizerStep } from './optimizer.js';
import { argReduce, reduce } from './reduce.js';

const opt = (v: View | undefined): HostView | undefined => (v ? hv(v) : undefined);

export const jsBackend: Backend = {
  name: 'js',
  unary: (op, x, dt) => wrap(unary(op, hv(x), dt)),
  binary: (op, a, b, shape, dt) => wrap(binary(op, hv(a), hv(b), shape, dt)),
  where: (c, a, b, shape, dt) => wrap(where(hv(c), hv(a), hv(b), shape, dt)),
  reduce: (op, x, axes, dt) => wrap(reduce(op, hv(x), axes, dt)),
  argReduce: (op, x, axis) => wrap(argReduce(op, hv(x), axis)),
  matmul: (a, b, shape, dt, bias) => wrap(matmul(hv(a), hv(b), shape, dt, opt(bias))),
  gather: (x, axis, index, dt) => wrap(gather(hv(x), axis, hv(index), dt)),
  scatterAdd: (shape, axis, index, src, dt) => wrap(scatterAdd(shape, axis, hv(index), hv(src), dt)),
  indexSelect: (x, axis, index, dt) => wrap(indexSelect(hv(x), axis, hv(index), dt)),
  indexAdd: (shape, axis, index, src, dt) => wrap(indexAdd(shape, axis, hv(index), hv(src), dt)),
  copyInto: (dst, src) => copyInto(hv(dst), hv(src)),
  dropout: (x, p, scale, rng) => {
    const [out, mask] = dropout(hv(x), p, scale, rng);
    return [wrap(out), wrap(mask)];
  },
  axpy: (y, alpha, x) => axpy(hv(y), alpha, hv(x)),
  optimizerStep: (family, w, g, state, h) => optimizerStep(family, hv(w), hv(g), state.map(hv), h),
  random: (kind, shape, dtype, a, b, rng) => wrap(random({ kind, shape, dtype, a, b, rng })),
  fromHost: (array) => wrap(array),
  softmaxCrossEntropy: (x, t, dt) => {
    const [loss, probs] = softmaxCrossEntropy(hv(x), hv(t), dt);
    return [wrap(loss), wrap(probs)];
  },
  softmaxCrossEntropyGrad: (probs, t, g, factor, dt) =>
    wrap(softmaxCrossEntropyGrad(hostArray(probs.storage) as Float64Array, hv(t), hv(g), factor, dt)),
};
