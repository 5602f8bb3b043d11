/**
 * Worker threads for the GEMM, behind a platform hook, and the loop they run. The backend stays
 * platform-neutral: a platform layer (io/node for Node, io/web for browsers) installs a
 * `GemmThreadSpawner` that starts a worker instantiating the shared-memory kernel build over the
 * shared `WebAssembly.Memory` (as `ex`) with its control block (as `ctrl`, layout in control.ts),
 * then running `GEMM_WORKER_LOOP`. Without a spawner or SharedArrayBuffer, GEMM runs on one thread.
 */

import { KeelError } from '../../util/errors.js';
import { Kind, Word } from './control.js';

/** Starts one helper thread; `ctrl` is its control block. */
export type GemmThreadSpawner = (bytes: Uint8Array, memory: WebAssembly.Memory, ctrl: Int32Array) => void;

let spawner: GemmThreadSpawner | null = null;
let helpers = 0;
let started = false;

/** Products with fewer multiply-adds than this stay on the caller's thread (the default split). */
export const SPLIT_MIN_WORK = 1 << 21;
let splitMinWork = SPLIT_MIN_WORK;

/**
 * Installs a way to start worker threads and how many helpers to use (threads − 1); products of at
 * least `minWork` multiply-adds are split with them (default SPLIT_MIN_WORK). Must be called before
 * the wasm backend is first used.
 */
export function installGemmThreads(
  spawn: GemmThreadSpawner,
  helperCount: number,
  minWork = SPLIT_MIN_WORK,
): void {
  if (started && spawn !== spawner) {
    throw new KeelError(
      'installGemmThreads: the wasm backend already started without these threads; enable threads before the first wasm op',
    );
  }
  spawner = spawn;
  helpers = Math.max(0, Math.floor(helperCount));
  splitMinWork = minWork;
}

/** Multiply-adds from which a product is split across the helpers (installGemmThreads' `minWork`). */
export function gemmSplitMinWork(): number {
  return splitMinWork;
}

/**
 * How many threads the wasm GEMM will run on once started: 1 + the installed helpers where a
 * spawner is installed and SharedArrayBuffer exists, else 1 (reading it starts nothing).
 */
export function installedGemmThreads(): number {
  return spawner && typeof SharedArrayBuffer === 'function' ? 1 + helpers : 1;
}

/** The installed spawner and helper count (0 when threads are off). */
export function gemmThreads(): { spawn: GemmThreadSpawner | null; helpers: number } {
  started = true;
  return { spawn: typeof SharedArrayBuffer === 'function' ? spawner : null, helpers: spawner ? helpers : 0 };
}

/** The kernels a helper calls (assembly/gemm.ts, assembly/optimizer.ts). */
interface RowsKernel {
  gemmRows(
    ...args: [number, number, number, number, number, number, number, number, number, number, number, number]
  ): void;
  optimizerStep(...args: [number, number, number, number, number, number, number, number]): void;
}

/**
 * A helper thread's body: waits for a request, then draws row blocks of C (or element blocks of an
 * optimizer step) from the shared counter until none is left, and reports the request done;
 * forever. It becomes the worker's source text (GEMM_WORKER_LOOP), so it may use only its
 * parameters and the worker's globals.
 */
function helperLoop(ex: RowsKernel, ctrl: Int32Array, W: typeof Word, K: typeof Kind): void {
  let seen = Atomics.load(ctrl, W.request);
  const counter = new Int32Array(ctrl.buffer, 0, 1);
  Atomics.store(ctrl, W.running, 1);
  for (;;) {
    // Spin up to half a millisecond before sleeping: training issues products every few hundred
    // microseconds, and waking from Atomics.wait is slower than waking from a spin, while the main
    // thread computes alone (bench/NOTES.md).
    const until = performance.now() + 0.5;
    while (Atomics.load(ctrl, W.request) === seen && performance.now() < until);
    if (Atomics.load(ctrl, W.request) === seen) Atomics.wait(ctrl, W.request, seen);
    seen = Atomics.load(ctrl, W.request);
    // The caller copies the operands in after calling us: wait until it says they are ready.
    while (Atomics.load(ctrl, W.ready) !== seen);
    const m = ctrl[W.m];
    const block = ctrl[W.block];
    // Row blocks of C, or element blocks of one parameter's optimizer step (each element's update
    // is independent): either way drawn from the shared counter until none is left.
    const optimizer = ctrl[W.kind] === K.OPTIMIZER;
    const at = (p: number, i: number) => (p === 0 ? 0 : p + 4 * i);
    for (;;) {
      const i0 = Atomics.add(counter, 0, block);
      if (i0 >= m) break;
      const i1 = Math.min(i0 + block, m);
      if (optimizer)
        ex.optimizerStep(
          ctrl[W.family],
          at(ctrl[W.w], i0),
          at(ctrl[W.g], i0),
          at(ctrl[W.s0], i0),
          at(ctrl[W.s1], i0),
          at(ctrl[W.s2], i0),
          i1 - i0,
          ctrl[W.h],
        );
      else
        ex.gemmRows(
          ctrl[W.a],
          ctrl[W.aRowStride],
          ctrl[W.aColStride],
          ctrl[W.packedB],
          ctrl[W.c],
          ctrl[W.ldc],
          i0,
          i1,
          ctrl[W.n],
          ctrl[W.k],
          ctrl[W.work],
          ctrl[W.accumulate],
        );
      Atomics.add(ctrl, W.blocksDone, 1);
    }
    Atomics.store(ctrl, W.done, seen);
    Atomics.notify(ctrl, W.done);
  }
}

/**
 * The source a worker runs once `ex` (the shared build's exports) and `ctrl` (its control block)
 * are in scope: `helperLoop` with the control-block layout and request kinds of control.ts.
 */
export const GEMM_WORKER_LOOP = `(${helperLoop.toString()})(ex, ctrl, ${JSON.stringify(Word)}, ${JSON.stringify(Kind)});`;
