/**
 * Anomaly mode: while `detectAnomaly(fn)` runs, every primitive checks its output and every
 * backward rule its gradients for NaN/Inf. The first op that turns finite inputs into a non-finite
 * value throws an `AnomalyError` naming the phase (forward or backward), the op and its inputs'
 * shapes — the place to look, rather than the NaN loss many ops later. Costs one pass over each
 * result, so it is off by default.
 */
import type { TypedArray } from '../backend/types.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape, KeelError } from '../util/errors.js';

let depth = 0;
/** The node whose backward rule is running (ops inside a rule belong to its backward). */
let inBackward: { op: string; shapes: number[][] } | null = null;

/** Where a non-finite value first appeared. */
export class AnomalyError extends KeelError {
  constructor(
    readonly phase: 'forward' | 'backward',
    readonly op: string,
    readonly inputShapes: number[][],
    detail: string,
  ) {
    super(
      `anomaly: ${phase} of '${op}' produced ${detail} from finite inputs of shapes ${inputShapes.map(fmtShape).join(', ')}`,
    );
  }
}

/** Whether anomaly mode is on. */
export function isAnomalyEnabled(): boolean {
  return depth > 0;
}

/** Runs `fn` with anomaly detection on; throws AnomalyError at the first op producing NaN/Inf. */
export function detectAnomaly<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

function countNonFinite(t: Tensor): { nan: number; inf: number } {
  const d: TypedArray = t.readSync();
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v !== v) nan++;
    else if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) inf++;
  }
  return { nan, inf };
}

function finite(t: Tensor): boolean {
  if (!isFloat(t.dtype)) return true;
  const c = countNonFinite(t);
  return c.nan === 0 && c.inf === 0;
}

function describe(t: Tensor): string {
  const c = countNonFinite(t);
  const parts = [];
  if (c.nan) parts.push(`${c.nan} NaN`);
  if (c.inf) parts.push(`${c.inf} Inf`);
  return `${parts.join(' and ')} of ${t.size} values`;
}

/** @internal Called by `record` for every primitive's output while anomaly mode is on. */
export function checkForward(op: string, out: Tensor, inputs: readonly Tensor[]): void {
  if (!isFloat(out.dtype) || finite(out)) return;
  if (!inputs.every(finite)) return;
  if (inBackward) {
    throw new AnomalyError(
      'backward',
      inBackward.op,
      inBackward.shapes,
      `a gradient with ${describe(out)} (in its '${op}' step)`,
    );
  }
  throw new AnomalyError(
    'forward',
    op,
    inputs.map((t) => [...t.shape]),
    describe(out),
  );
}

/** @internal Runs a backward rule so that non-finite values inside it are attributed to `op`'s backward. */
export function inBackwardOf<T>(op: string, shapes: readonly (readonly number[])[], fn: () => T): T {
  const prev = inBackward;
  inBackward = { op, shapes: shapes.map((s) => [...s]) };
  try {
    return fn();
  } finally {
    inBackward = prev;
  }
}

/** @internal Called by the engine after each backward rule while anomaly mode is on. */
export function checkBackward(
  op: string,
  gradOut: Tensor,
  grads: readonly (Tensor | null)[],
  inputShapes: readonly (readonly number[])[],
): void {
  if (!finite(gradOut)) return;
  for (const g of grads) {
    if (g && !finite(g))
      throw new AnomalyError(
        'backward',
        op,
        inputShapes.map((s) => [...s]),
        `a gradient with ${describe(g)}`,
      );
  }
}
