/**
 * Worker threads for the GEMM, behind a platform hook. The backend stays platform-neutral: a
 * platform layer (io/node for Node, io/web for browsers) installs a `GemmThreadSpawner` that starts
 * a worker running `GEMM_WORKER_LOOP` over a shared `WebAssembly.Memory`. Work is handed over through
 * a shared Int32Array of CTRL_WORDS words per helper: word 0 is the request sequence number, word 1
 * the last finished one, words 2..13 the `gemmRows` arguments and the row-block size, word 14 the
 * request whose operands are in place (helpers are called first, so they wake while the caller
 * copies), word 15 is set to 1 by the helper once it is running (until then the caller leaves it
 * out, so a worker that starts late — or never — cannot stall a product), word 16 counts the row
 * blocks it computed. Every thread draws row blocks from one counter, word 0 of the buffer the
 * control blocks live in (B is packed once, before, by the caller). The caller waits for its
 * helpers with Atomics.wait where the thread may block (Node, workers) and by spinning where it
 * may not (a browser's main thread). Without a spawner or SharedArrayBuffer, GEMM runs on one thread.
 */

import { KeelError } from '../../util/errors.js';

/** Int32 words per helper control block (and bytes per block: 4·CTRL_WORDS). */
export const CTRL_WORDS = 32;

/** Starts one helper thread; `ctrl` is its control block. */
export type GemmThreadSpawner = (bytes: Uint8Array, memory: WebAssembly.Memory, ctrl: Int32Array) => void;

let spawner: GemmThreadSpawner | null = null;
let helpers = 0;
let started = false;

/**
 * Installs a way to start worker threads and how many helpers to use (threads − 1). Must be called
 * before the wasm backend is first used.
 */
export function installGemmThreads(spawn: GemmThreadSpawner, helperCount: number): void {
  if (started && spawn !== spawner) {
    throw new KeelError(
      'installGemmThreads: the wasm backend already started without these threads; enable threads before the first wasm op',
    );
  }
  spawner = spawn;
  helpers = Math.max(0, Math.floor(helperCount));
}

/** The installed spawner and helper count (0 when threads are off). */
export function gemmThreads(): { spawn: GemmThreadSpawner | null; helpers: number } {
  started = true;
  return { spawn: typeof SharedArrayBuffer === 'function' ? spawner : null, helpers: spawner ? helpers : 0 };
}

/**
 * The body of a helper: given `ex` (the instance's exports) and `ctrl`, wait for requests and run
 * them forever. Platform layers wrap it with their own way of receiving bytes, memory and ctrl.
 */
export const GEMM_WORKER_LOOP = `
let seen = Atomics.load(ctrl, 0);
const counter = new Int32Array(ctrl.buffer, 0, 1);
Atomics.store(ctrl, 15, 1);
for (;;) {
  // Spin up to half a millisecond before sleeping: training issues products every few hundred
  // microseconds, and waking from Atomics.wait is slower than waking from a spin, while the main
  // thread computes alone (bench/NOTES.md).
  const until = performance.now() + 0.5;
  while (Atomics.load(ctrl, 0) === seen && performance.now() < until);
  if (Atomics.load(ctrl, 0) === seen) Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  // The caller copies the operands in after calling us: wait until it says they are ready.
  while (Atomics.load(ctrl, 14) !== seen);
  const m = ctrl[8], block = ctrl[12];
  for (;;) {
    const i0 = Atomics.add(counter, 0, block);
    if (i0 >= m) break;
    ex.gemmRows(ctrl[2], ctrl[3], ctrl[4], ctrl[5], ctrl[6], ctrl[7], i0, Math.min(i0 + block, m), ctrl[9], ctrl[10], ctrl[11], ctrl[13]);
    Atomics.add(ctrl, 16, 1);
  }
  Atomics.store(ctrl, 1, seen);
  Atomics.notify(ctrl, 1);
}`;
