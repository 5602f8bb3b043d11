/**
 * Worker threads for the wasm GEMM in browsers (the counterpart of io/node/engine.ts): dedicated
 * Workers, started from a Blob URL, each instantiating the shared-memory kernel build over the same
 * `WebAssembly.Memory` and running `GEMM_WORKER_LOOP`. Only where SharedArrayBuffer exists, i.e. on
 * cross-origin-isolated pages (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`); elsewhere the GEMM stays on one thread. The page's
 * main thread may not block, so it spins while waiting for helpers; a worker that has not started
 * yet is left out of products until it runs (backend/wasm/pool.ts), so nothing waits on worker start-up.
 */
import { GEMM_WORKER_LOOP, installGemmThreads, SPLIT_MIN_WORK } from '../../backend/wasm/threads.js';
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
 * `threads − 1` Workers; default `defaultWasmThreads`: half the reported cores, rounded up, at most
 * 4 — a page's own threads (its main thread, compositing, the collector) need the rest, as ONNX
 * Runtime Web's default says too — or both of 2 cores, splitting only long products). Call before
 * the first wasm op. Returns the number of threads products will use: 1 where threads are
 * unavailable (see `wasmThreadsUnavailable`). Helpers join once their Worker has started (a few
 * milliseconds).
 */
export function enableWasmThreads(threads?: number): number {
  const cores = globalThis.navigator?.hardwareConcurrency;
  const n = threads ?? defaultWasmThreads(cores);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new ValueError(`enableWasmThreads: threads must be an integer in 1..64, got ${threads}`);
  if (n === 1 || wasmThreadsUnavailable() !== null) return 1;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  installGemmThreads(
    (bytes, memory, ctrl) => {
      new Worker(url).postMessage({ bytes, memory, ctrl });
    },
    n - 1,
    splitMinWork(n, cores),
  );
  return n;
}

/**
 * Multiply-adds from which products are split, on `threads` threads of `cores`: the usual
 * threshold while a core is left for the page; SHARED_SPLIT_MIN_WORK when the threads take every
 * core, so that only long products (an evaluation's 1,000-row batches) wait for a helper the page
 * may have pre-empted — a short one would stall for the rest of the helper's time slice.
 */
export function splitMinWork(threads: number, cores: number | undefined): number {
  return threads >= Math.max(1, cores ?? 1) ? SHARED_SPLIT_MIN_WORK : SPLIT_MIN_WORK;
}

/**
 * 2²⁶ multiply-adds: 1000×784×256 (2.0·10⁸) is split, 64×784×256 (1.3·10⁷) is not. On a 2-core VM
 * the lab's Fashion-MNIST preset on two threads this way: 366, 370, 365, 317 steps/s against 317,
 * 343, 337, 322 on one thread, alternating (bench/NOTES.md); every product split, two threads were
 * no faster than one.
 */
const SHARED_SPLIT_MIN_WORK = 1 << 26;

/**
 * The default thread count for `cores` reported cores: ⌈cores / 2⌉, at most 4, the rest left to the
 * page — but both of 2 cores, with only long products split (`splitMinWork`): on a 2-core VM one
 * thread trained the lab's Fashion-MNIST preset as fast as two splitting every product (the page
 * took the helper's core), and two splitting only the evaluations' products ~8% faster.
 */
export function defaultWasmThreads(cores: number | undefined): number {
  const c = Math.max(1, cores ?? 1);
  return c === 2 ? 2 : Math.min(Math.ceil(c / 2), 4);
}
