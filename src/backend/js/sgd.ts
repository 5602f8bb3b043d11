/**
 * The js backend's plain SGD update, w ← w − lr·g in float64 rounded once into w. Two copies of one
 * loop so the float32 case stays monomorphic for the JIT (about 2× faster than one loop seeing every
 * dtype).
 */

export function sgd(w: Float32Array | Float64Array, off: number, g: ArrayLike<number>, lr: number): void {
  if (w instanceof Float32Array && g instanceof Float32Array) sgdF32(w, off, g, lr);
  else sgdAny(w, off, g, lr);
}

function sgdF32(w: Float32Array, off: number, g: Float32Array, lr: number): void {
  for (let i = 0; i < g.length; i++) w[off + i] -= lr * g[i];
}

function sgdAny(w: Float32Array | Float64Array, off: number, g: ArrayLike<number>, lr: number): void {
  for (let i = 0; i < g.length; i++) w[off + i] -= lr * g[i];
}
