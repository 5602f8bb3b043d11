/**
 * Taps: code that observes a tensor's value each time the code making it runs — run eagerly, at
 * once; in a compiled step, after each replay of its plan (the compile layer records the tap while
 * it traces and keeps the tapped tensor as one of the plan's outputs, so fusion and memory planning
 * leave it readable). What diagnostics use to see layer outputs on sampled steps without running
 * them eagerly (`Module.registerForwardTap`). A tap must only read: what it computes from the value
 * stays on the host, and the tensor it is given is overwritten by the next run.
 */
import type { Tensor } from '../tensor/tensor.js';

/** Called with a tapped tensor's value (detached; valid until the next run of the code). */
export type TapFn = (value: Tensor) => void;

type Recorder = (t: Tensor, fn: TapFn) => void;

let recorder: Recorder | null = null;

/**
 * Observes `t`'s value with `fn`: at once, or — while a compiled step is traced — after the trace
 * and after every replay of its plan.
 */
export function tap(t: Tensor, fn: TapFn): void {
  if (recorder) recorder(t, fn);
  else fn(t.detach());
}

/** @internal Routes taps to `r` (the tracer) instead of running them; returns the previous router. */
export function recordTaps(r: Recorder | null): Recorder | null {
  const prev = recorder;
  recorder = r;
  return prev;
}
