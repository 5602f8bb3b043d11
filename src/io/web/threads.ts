/**
 * Worker threads for the wasm GEMM in browsers (the counterpart of io/node/engine.ts): dedicated
 * Workers, started from a Blob URL, each instantiating the shared-memory kernel build over the same
 * `WebAssembly.Memory` and running `GEMM_WORKER_LOOP`. Only where SharedArrayBuffer exists, i.e. on
 * cross-origin-isolated pages (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`); elsewhere the GEMM stays on one thread. The page's
 * main thread may not block, so it spins while waiting for helpers; a worker that has not started
 * yet is left out of products until it runs (backend/wasm/pool.ts), so nothing waits on worker start-up.
 */
import { GEMM_WORKER_LOOP, installGemmThreads } from '../../backend/wasm/threads.js';
import { ValueError } from '../../util/errors.js';

const WORKER_SOURCE = `
onmessage = (e) => {
  onmessage = null;
  const { bytes, memory, ctrl } = e.data;
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  ${GEMM_WORKER_LOOP}
};`;

/** Why threads are unavailable on this page, or null when they can run. */
export function wasmThreadsUnavailable(): string | null {
  if (typeof Worker !== 'function') return 'this context has no Worker';
  if (
    typeof SharedArrayBuffer !== 'function' ||
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false
  )
    return 'SharedArrayBuffer needs a cross-origin-isolated page (COOP: same-origin, COEP: require-corp)';
  return null;
}

/**
 * Runs large float32 products of the wasm backend on `threads` threads (this one plus
 * `threads − 1` Workers; default: half the reported cores, rounded up, at most 4 — a page's own
 * threads (its main thread, compositing, the collector) need the rest, as ONNX Runtime Web's default
 * says too). Call before the first wasm op. Returns the number of threads products will use: 1 where
 * threads are unavailable (see `wasmThreadsUnavailable`). Helpers join once their Worker has
 * started (a few milliseconds).
 */
export function enableWasmThreads(threads?: number): number {
  const n = threads ?? defaultWasmThreads(globalThis.navigator?.hardwareConcurrency);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new ValueError(`enableWasmThreads: threads must be an integer in 1..64, got ${threads}`);
  if (n === 1 || wasmThreadsUnavailable() !== null) return 1;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  installGemmThreads((bytes, memory, ctrl) => {
    new Worker(url).postMessage({ bytes, memory, ctrl });
  }, n - 1);
  return n;
}

/**
 * The default thread count for `cores` reported cores: ⌈cores / 2⌉, at most 4. On 2 cores that is
 * one thread: the lab's Fashion-MNIST preset in headless Chromium on a 2-core VM trained as fast or
 * faster on one thread than with a helper (bench/NOTES.md), the helper's core taken by the page.
 */
export function defaultWasmThreads(cores: number | undefined): number {
  return Math.min(Math.ceil(Math.max(1, cores ?? 1) / 2), 4);
}
