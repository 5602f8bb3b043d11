/**
 * The js backend's random kernels over the counter-based Philox stream (util/random.ts is their
 * spec): inverted dropout — the mask (a 16-bit half of a Philox word per element, row-major; `fillDropoutMask`),
 * then out = x·mask, two passes the wasm backend fuses into one with the same mask — and uniform or
 * normal draws (`fillRandom`).
 */
import { fillDropoutMask, fillRandom } from '../../util/random.js';
import { sizeOf } from '../../util/shape.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { KernelOp } from '../plan.js';
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

/** A draw's arguments, as `Backend.random` takes them and a plan's random op holds them. */
export type RandomDraw = Omit<Extract<KernelOp, { op: 'random' }>, 'op' | 'out'>;

/** Draws of `shape` (uniform on [a, b) or normal with mean a, sd b), into `into` when given. */
export function random({ kind, shape, dtype, a, b, rng }: RandomDraw, into?: TypedArray): TypedArray {
  const out = (into ?? allocate(dtype, sizeOf(shape), false)) as Float32Array | Float64Array;
  const k0 = rng.nextUint32();
  const k1 = rng.nextUint32();
  fillRandom(kind, k0, k1, out, a, b, sizeOf(shape));
  return out;
}
