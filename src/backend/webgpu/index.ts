/**
 * The `webgpu` backend: every `Backend` kernel as a WGSL compute kernel over GPU buffers (storage.ts),
 * recorded into the device's one pending command encoder (context.ts) — eager kernels one dispatch
 * each, compiled plans all their dispatches in one compute pass (planRunner.ts). Made from a
 * `GPUDevice` by the platform code that owns it (keel/node `enableWebGpu`, keel/web
 * `enableWebGpu`), never the default backend.
 *
 * Tensors live where they were created: a kernel reading a tensor of a CPU backend uploads it for
 * that call (correct, slow); a kernel writing into one in place (copyInto, axpy, an optimizer step)
 * refuses, since the GPU cannot write host memory synchronously — make the model after
 * `setBackend('webgpu')`. float64 tensors are held as float32 on the GPU (WGSL has no 64-bit
 * floats); matrix products refuse float64.
 */
import { dtypeOfArray } from '../../util/dtype.js';
import { KeelError } from '../../util/errors.js';
import { contiguousStrides, sizeOf } from '../../util/shape.js';
import { HostStorage } from '../host.js';
import { stateNames } from '../optimizer.js';
import type { Plan, PlanRunner } from '../plan.js';
import type { Backend, DType, RandomState, TypedArray, View } from '../types.js';
import { GpuContext, type KernelCall } from './context.js';
import { crossEntropyGradKernel, crossEntropyKernel } from './crossentropy.js';
import { axpyKernel, binaryKernel, copyKernel, dense, unaryKernel, whereKernel } from './elementwise.js';
import type { GpuAdapterFacts, GpuDevice } from './gpu.js';
import { addKernel, pickKernel } from './indexing.js';
import { matmulKernel } from './matmul.js';
import { optimizerKernel } from './optimizer.js';
import { prepareGpuPlan } from './planRunner.js';
import { dropoutKernel, randomKernel } from './random.js';
import { argReduceKernel, reduceKernel } from './reduce.js';
import { foreign, GpuStorage, SHADOW_MAX, toWords } from './storage.js';
import type { Operand } from './wgsl.js';

export { GpuContext, type GpuStats } from './context.js';
export type { GpuAdapterFacts, GpuDevice } from './gpu.js';
export { GpuStorage } from './storage.js';

/** The webgpu backend and its device context. */
export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  readonly ctx: GpuContext;
  /** What the adapter said about itself (for `keel info`). */
  readonly adapter: GpuAdapterFacts | null;
  /** Why the last `prepare` gave a plan back to the replay runner (null when it did not). */
  readonly lastRefusal: string | null;
}

/** The two words of a generator that key one Philox stream. */
const keyOf = (rng: RandomState) => (): [number, number] => {
  const k0 = rng.nextUint32();
  const k1 = rng.nextUint32();
  return [k0, k1];
};

/** Makes the webgpu backend on a device (the caller keeps the device — and in Node its instance — alive). */
export function createWebGpuBackend(
  device: GpuDevice,
  adapter: GpuAdapterFacts | null = null,
): WebGpuBackend {
  const ctx = new GpuContext(device);
  /** A kernel's view of a storage (another backend's is uploaded for the call, without a host copy). */
  const operand = (v: View): Operand => {
    let s = v.storage;
    if (!(s instanceof GpuStorage) || s.ctx !== ctx) s = upload(foreign(s), s.dtype, false);
    const g = s as GpuStorage;
    return { place: g.place(), dtype: g.dtype, shape: v.shape, strides: v.strides, offset: v.offset };
  };
  const target = (v: View, op: string): Operand => {
    const s = v.storage;
    if (!(s instanceof GpuStorage) || s.ctx !== ctx)
      throw new KeelError(
        `webgpu: ${op} would write in place into a tensor of another backend (${s instanceof HostStorage ? 'host memory' : s.constructor.name}); tensors live where they were created — make it after setBackend('webgpu')`,
      );
    s.touched();
    return operand(v);
  };
  const output = (dtype: DType, shape: readonly number[]): [GpuStorage, Operand] => {
    const s = GpuStorage.create(ctx, dtype, sizeOf(shape));
    return [s, dense({ place: s.place(), dtype }, shape)];
  };
  const run = (k: KernelCall, n: number) => {
    if (n > 0) ctx.dispatch(k);
  };
  /** A new storage holding `array` (kept as its host copy when small and `shadow`: see storage.ts). */
  const upload = (array: TypedArray, dtype = dtypeOfArray(array), shadow = true): GpuStorage => {
    const n = array.length;
    const words = toWords(dtype, array);
    // The host copy holds what the GPU holds (float64 rounded to float32).
    const copy = shadow && n <= SHADOW_MAX ? (dtype === 'float64' ? Float64Array.from(words) : array) : null;
    const s = GpuStorage.create(ctx, dtype, n, copy);
    ctx.write(s.buffer, 0, words);
    return s;
  };
  ctx.stridedWrite = (s, w, words) => {
    const tmp = GpuStorage.create(ctx, s.dtype, words.byteLength / 4);
    ctx.write(tmp.buffer, 0, words);
    const n = sizeOf(w.shape);
    run(
      copyKernel(
        { place: s.place(), dtype: s.dtype, shape: w.shape, strides: w.strides, offset: w.offset },
        dense({ place: tmp.place(), dtype: s.dtype }, w.shape),
      ),
      n,
    );
  };
  let lastRefusal: string | null = null;

  const be: WebGpuBackend = {
    name: 'webgpu',
    ctx,
    adapter,
    get lastRefusal() {
      return lastRefusal;
    },
    unary(op, x, dtype) {
      const [s, out] = output(dtype, x.shape);
      run(unaryKernel(op, operand(x), out), sizeOf(x.shape));
      return s;
    },
    binary(op, a, b, shape, dtype) {
      const [s, out] = output(dtype, shape);
      run(binaryKernel(op, operand(a), operand(b), out), sizeOf(shape));
      return s;
    },
    where(cond, a, b, shape, dtype) {
      const [s, out] = output(dtype, shape);
      run(whereKernel(operand(cond), operand(a), operand(b), out), sizeOf(shape));
      return s;
    },
    reduce(op, x, axes, dtype) {
      const shape = x.shape.filter((_, d) => !axes.includes(d));
      const [s, out] = output(dtype, shape);
      run(reduceKernel(op, operand(x), axes, out), sizeOf(shape));
      return s;
    },
    argReduce(op, x, axis) {
      const shape = x.shape.filter((_, d) => d !== axis);
      const [s, out] = output('int32', shape);
      run(argReduceKernel(op, operand(x), axis, out), sizeOf(shape));
      return s;
    },
    matmul(a, b, shape, dtype, bias) {
      const [s, out] = output(dtype, shape);
      run(matmulKernel(operand(a), operand(b), out, bias ? { bias: operand(bias) } : {}), sizeOf(shape));
      return s;
    },
    gather(x, axis, index, dtype) {
      const [s, out] = output(dtype, index.shape);
      run(pickKernel('gather', operand(x), axis, operand(index), out, ctx.errorBuffer), sizeOf(index.shape));
      return s;
    },
    indexSelect(x, axis, index, dtype) {
      const shape = x.shape.map((d, i) => (i === axis ? (index.shape[0] ?? 1) : d));
      const [s, out] = output(dtype, shape);
      run(pickKernel('indexSelect', operand(x), axis, operand(index), out, ctx.errorBuffer), sizeOf(shape));
      return s;
    },
    scatterAdd(shape, axis, index, src, dtype) {
      const [s, out] = output(dtype, shape);
      run(addKernel('scatterAdd', axis, operand(index), operand(src), out, ctx.errorBuffer), sizeOf(shape));
      return s;
    },
    indexAdd(shape, axis, index, src, dtype) {
      const [s, out] = output(dtype, shape);
      run(addKernel('indexAdd', axis, operand(index), operand(src), out, ctx.errorBuffer), sizeOf(shape));
      return s;
    },
    copyInto(dst, src) {
      run(copyKernel(target(dst, 'copyInto'), operand(src)), sizeOf(dst.shape));
    },
    dropout(x, p, scale, rng) {
      const dtype = x.storage.dtype === 'float64' ? 'float64' : 'float32';
      const [so, out] = output(dtype, x.shape);
      const [sm, mask] = output(dtype, x.shape);
      const k = dropoutKernel(operand(x), p, scale, out, mask, keyOf(rng));
      if (sizeOf(x.shape) > 0) ctx.dispatch(k);
      else keyOf(rng)();
      return [so, sm];
    },
    axpy(y, alpha, x) {
      run(axpyKernel(target(y, 'axpy'), alpha, operand(x)), sizeOf(y.shape));
    },
    optimizerStep(family, w, g, state, h) {
      const names = stateNames(family, h);
      if (names.length !== state.length)
        throw new KeelError(
          `webgpu: optimizerStep(${family}) takes ${names.length} state buffers (${names.join(', ')}), got ${state.length}`,
        );
      const k = optimizerKernel(
        family,
        target(w, 'optimizerStep'),
        operand(g),
        state.map((s) => target(s, 'optimizerStep')),
        names,
        h,
      );
      run(k, sizeOf(w.shape));
    },
    random(kind, shape, dtype, a, b, rng) {
      const [s, out] = output(dtype, shape);
      const k = randomKernel(kind, out, a, b, keyOf(rng));
      if (sizeOf(shape) > 0) ctx.dispatch(k);
      else keyOf(rng)();
      return s;
    },
    fromHost(array) {
      return upload(array);
    },
    softmaxCrossEntropy(x, t, dtype) {
      const [n, c] = x.shape;
      const [sl, loss] = output(dtype, [n]);
      const [sp, probs] = output('float64', [n, c]);
      run(crossEntropyKernel(operand(x), operand(t), loss, probs, ctx.errorBuffer), n);
      return [sl, sp];
    },
    softmaxCrossEntropyGrad(probs, t, g, factor, dtype) {
      const n = t.shape[0];
      const c = n > 0 ? probs.storage.length / n : 0;
      const pv: View = {
        ...probs,
        shape: [n, c],
        strides: probs.shape.length === 2 ? probs.strides : contiguousStrides([n, c]),
      };
      const [s, out] = output(dtype, [n, c]);
      run(crossEntropyGradKernel(operand(pv), operand(t), operand(g), factor, out, ctx.errorBuffer), n * c);
      return s;
    },
    sync: () => ctx.sync(),
    prepare(plan: Plan): PlanRunner | null {
      const r = prepareGpuPlan(plan, ctx, (why) => {
        lastRefusal = why;
      });
      if (r) lastRefusal = null;
      return r;
    },
  };
  return be;
}
