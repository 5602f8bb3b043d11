// Timing helpers shared by bench/run.mjs (TF.js) and bench/keel_peer.mjs (keel), so every peer is
// timed the same way.

/** Median (upper median for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Seconds per call of `fn`. Warm up first: V8 compiles wasm with a baseline tier and optimizes hot
 * functions later (also in the GEMM helper threads), and JS JIT-compiles; peers get the same
 * treatment. Then the best of three timed rounds, as torch_bench.py does (this 2-core VM's speed
 * drifts by ±30%).
 */
export function timeIt(fn, minSeconds) {
  const warm = performance.now();
  do fn();
  while (performance.now() - warm < minSeconds * 1000);
  let reps = 1;
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; ) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = (performance.now() - t0) / 1000;
    if (dt < minSeconds / 3) {
      reps *= 2;
      continue;
    }
    best = Math.min(best, dt / reps);
    round++;
  }
  return best;
}
