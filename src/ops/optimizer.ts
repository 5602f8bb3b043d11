/**
 * The optimizer's ops: one fused update of a parameter and its state in place (the backend kernel
 * whose spec, hyper-parameter layout and state names are backend/optimizer.ts, re-exported here for
 * optim/), and host steps — JS state a computation advances, which a compiled step replays. No
 * autograd: updates happen outside the graph.
 */

import type { OptimizerFamily } from '../backend/optimizer.js';
import { backend, hostOp } from '../backend/registry.js';
import type { Tensor } from '../tensor/tensor.js';

export { DecayMode, H, H_LENGTH, type OptimizerFamily, stateNames } from '../backend/optimizer.js';

/**
 * One optimizer step on `w` in place: its gradient `g`, its state buffers (contiguous, w's shape,
 * in `stateNames` order) and this step's hyper-parameters `h` (read, not written).
 */
export function optimizerStep(
  family: OptimizerFamily,
  w: Tensor,
  g: Tensor,
  state: readonly Tensor[],
  h: Float64Array,
): void {
  backend().optimizerStep(family, w, g, state, h);
}

/**
 * Runs `fn` now and, while a compiled step is traced, at the same point of every replay: JS state
 * that belongs to the computation (an optimizer's step count and the hyper-parameters it reads).
 */
export function hostStep(fn: () => void): void {
  hostOp(fn);
}
