/**
 * Gradient recording mode. While disabled (inside `noGrad`), ops record no graph: results have no
 * gradFn and nothing is kept for backward. Synchronous scopes only: the mode is restored when the
 * function returns or throws. Also here: whether a compiled step is being traced (`isTracing`), for
 * the few things that must not run inside one.
 */
import { KeelError } from '../util/errors.js';

let enabled = true;

/** Whether ops currently record the computational graph. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with graph recording switched on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs `fn` without recording a graph (prediction, evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with graph recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Thrown by code that cannot be part of a compiled step when it runs while one is traced. */
export class NotTraceableError extends KeelError {}

let tracing = false;

/** Whether a compiled step is being traced (its kernels recorded into a plan) right now. */
export function isTracing(): boolean {
  return tracing;
}

/** @internal Runs `fn` marked as traced (the compile layer's tracer does). */
export function whileTracing<T>(fn: () => T): T {
  const prev = tracing;
  tracing = true;
  try {
    return fn();
  } finally {
    tracing = prev;
  }
}
