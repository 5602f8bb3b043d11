/**
 * Node engine settings that must precede the first kernel: on Node 20 (V8 11.3) relaxed SIMD — the
 * fused multiply-add GEMM — sits behind a V8 flag that NODE_OPTIONS refuses but
 * `v8.setFlagsFromString` accepts (newer Node ships it on); worker threads for the wasm GEMM
 * (worker_threads over a shared WebAssembly.Memory); and the `native` backend on the system BLAS,
 * the default wherever it loads. Threads: as many as cores, at most 4, or $KEEL_THREADS (anything
 * but a positive integer is an error) — for the wasm GEMM and for BLAS alike. Imported for its effect
 * by keel/node and the CLI. `KEEL_EAGER=1` makes training run eager steps by default (keel --eager
 * sets it, so sweep workers inherit it); `KEEL_PROFILE_PLANS=1` prints where compiled steps' time went
 * when the process exits (planProfile.ts).
 */
import { availableParallelism } from 'node:os';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { jsBackend } from '../../backend/js/index.js';
import { createNativeBackend } from '../../backend/native/index.js';
import { backendByName, backendUnavailable, registerBackend, setBackend } from '../../backend/registry.js';
import { GEMM_WORKER_LOOP, installGemmThreads } from '../../backend/wasm/threads.js';
import { setCompiledByDefault } from '../../compile/compile.js';
import { KeelError } from '../../util/errors.js';
import { loadBlas } from './blas.js';
import './planProfile.js';

if (process.env.KEEL_EAGER === '1') setCompiledByDefault(false);

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

/** The number of compute threads: $KEEL_THREADS (a positive integer), else the cores, at most 4. */
function threadCount(env = process.env.KEEL_THREADS): number {
  if (env === undefined || env === '') return Math.min(availableParallelism(), 4);
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1)
    throw new KeelError(
      `KEEL_THREADS must be a positive integer (1: no helper threads; default: the cores, at most 4), got '${env}'`,
    );
  return n;
}
/** Compute threads of this process (wasm GEMM helpers + the caller; BLAS threads). */
export const threads = threadCount();

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { bytes, memory, ctrl } = workerData;
const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
${GEMM_WORKER_LOOP}`;

installGemmThreads((bytes, memory, ctrl) => {
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, memory, ctrl } });
  // Helpers never keep the process alive: they block on Atomics.wait until the next request.
  w.unref();
}, threads - 1);

// The native backend: BLAS for products, the wasm (else js) kernels for the rest. Looked up on
// first use, so a program that never multiplies never loads the library.
/**
 * Makes `name` the active backend (keel --backend, a sweep worker's KEEL_BACKEND), starting the GPU
 * backend first when it is webgpu: that start is asynchronous (an adapter, a device).
 */
export async function startBackend(name: string): Promise<void> {
  if (name === 'webgpu') await (await import('./webgpu.js')).enableWebGpu();
  setBackend(name);
}

registerBackend('native', () => {
  const probe = loadBlas(threads);
  if (!probe.blas) {
    backendUnavailable('native', `no system BLAS loaded (${probe.tried.join('; ')}); fix: ${probe.fix}`);
    return null;
  }
  return createNativeBackend(probe.blas, backendByName('wasm') ?? jsBackend);
});
