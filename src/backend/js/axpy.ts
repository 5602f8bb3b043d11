/**
 * The js backend's axpy, y ← y + alpha·x in place, each element in float64 rounded once into y (the
 * optimizer's update: plain SGD is alpha = −lr, x = the gradient). The float32 case has a loop of
 * its own so it stays monomorphic for the JIT (about 2× faster than one loop seeing every dtype).
 */
import type { HostView } from '../host.js';
import { forEachRun, runKind } from './iter.js';

export function axpy(y: HostView, alpha: number, x: HostView): void {
  const yd = y.data;
  const xd = x.data;
  if (runKind(y, y.shape) === 1 && runKind(x, y.shape) === 1) {
    const n = y.shape.reduce((a, b) => a * b, 1);
    if (yd instanceof Float32Array && xd instanceof Float32Array)
      axpyF32(yd, y.offset, alpha, xd, x.offset, n);
    else for (let i = 0; i < n; i++) yd[y.offset + i] += alpha * xd[x.offset + i];
    return;
  }
  forEachRun(y.shape, [y.strides, x.strides], [y.offset, x.offset], (p, len, s) => {
    for (let i = 0, yi = p[0], xi = p[1]; i < len; i++, yi += s[0], xi += s[1]) yd[yi] += alpha * xd[xi];
  });
}

function axpyF32(y: Float32Array, yo: number, alpha: number, x: Float32Array, xo: number, n: number): void {
  for (let i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
}
