/**
 * The js backend's inverted-dropout kernel: the mask from the counter-based stream (one 32-bit
 * Philox word per element, row-major; util/random.ts `fillDropoutMask`), then out = x·mask. Two
 * passes over plain arrays; the wasm backend fuses them into one and gives the same mask.
 */
import { fillDropoutMask } from '../../util/random.js';
import { sizeOf } from '../../util/shape.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { RandomState, TypedArray } from '../types.js';
import { forEachRun } from './iter.js';

export function dropout(x: View, p: number, scale: number, rng: RandomState): [TypedArray, TypedArray] {
  const dtype = x.data instanceof Float64Array ? 'float64' : 'float32';
  const n = sizeOf(x.shape);
  const mask = allocate(dtype, n, false) as Float32Array | Float64Array;
  const k0 = rng.nextUint32();
  const k1 = rng.nextUint32();
  fillDropoutMask(k0, k1, mask, p, scale, 0);
  const out = allocate(dtype, n, false);
  const xd = x.data;
  let o = 0;
  forEachRun(x.shape, [x.strides], [x.offset], (pos, len, s) => {
    for (let i = 0, xi = pos[0]; i < len; i++, xi += s[0], o++) out[o] = xd[xi] * mask[o];
  });
  return [out, mask];
}
