/**
 * Nodes of the computational graph. An op that ran on inputs requiring gradients records one
 * `GradNode`: its name, where each input's gradient goes (another node, or a leaf tensor that
 * accumulates `.grad`), the tensors it keeps for backward, a small non-tensor context, and its
 * backward rule. Nodes reference only their saved tensors and leaves — not every input — so the
 * memory a graph holds is exactly what backward needs (see `savedBytes`). Autograd knows no
 * specific op: rules come from ops/.
 */
import type { DType } from '../backend/types.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkForward, isAnomalyEnabled } from './anomaly.js';
import { isGradEnabled } from './mode.js';
import { noteSaved } from './transient.js';

/**
 * A backward rule: given the gradient of the output, the saved tensors and the context, returns one
 * gradient per input (null where `needs[i]` is false or the input has no gradient). Gradients may
 * have the broadcast shape of the output; the engine sums them down to the input's shape.
 */
export type BackwardRule<C = unknown> = (
  g: Tensor,
  saved: readonly Tensor[],
  ctx: C,
  needs: readonly boolean[],
) => (Tensor | null)[];

/** Where the gradient of one input goes. */
export interface Edge {
  /** The node that produced the input, if it is not a leaf. */
  readonly node: GradNode | null;
  /** The leaf tensor that accumulates `.grad`, if the input is a leaf requiring grad. */
  readonly leaf: Tensor | null;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/**
 * Names of the primitives that record graph nodes (one per backward rule in `ops/`); the graph
 * picture and error messages show them. Test-only or user-defined rules use `custom:<name>`.
 */
export type GraphOp =
  | 'abs'
  | 'add'
  | 'amax'
  | 'amin'
  | 'cast'
  | 'concat'
  | 'contiguous'
  | 'crossEntropy'
  | 'div'
  | 'dropout'
  | 'erf'
  | 'exp'
  | 'expand'
  | 'gather'
  | 'indexAdd'
  | 'indexSelect'
  | 'linear'
  | 'log'
  | 'matmul'
  | 'maximum'
  | 'minimum'
  | 'mul'
  | 'neg'
  | 'permute'
  | 'pow'
  | 'relu'
  | 'reluGrad'
  | 'reshape'
  | 'scatterAdd'
  | 'sigmoid'
  | 'sign'
  | 'slice'
  | 'sliceScatter'
  | 'sqrt'
  | 'sub'
  | 'sum'
  | 'tanh'
  | 'where'
  | `custom:${string}`;

let nextId = 0;

declare module '../tensor/tensor.js' {
  /** A tensor's `gradFn` is a graph node of this module. */
  interface GradFn extends GradNode {}
}

/** One recorded op in the graph. */
export class GradNode {
  readonly id = nextId++;
  /** Tensor whose `.grad` should be set when the sweep reaches this node (`retainGrad`). */
  retained: Tensor | null = null;
  /** True once backward ran without `retainGraph`: saved tensors are released. */
  freed = false;
  /** Which inputs need a gradient (those with an edge): the rule's `needs` argument. */
  readonly needs: readonly boolean[];

  constructor(
    readonly op: GraphOp,
    readonly next: readonly (Edge | null)[],
    public saved: readonly Tensor[] | null,
    readonly ctx: unknown,
    readonly rule: BackwardRule<never>,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {
    const needs = new Array<boolean>(next.length);
    for (let i = 0; i < next.length; i++) needs[i] = next[i] !== null;
    this.needs = needs;
  }

  /** Tensors kept for backward, in recording order (empty once freed). */
  savedTensors(): readonly Tensor[] {
    return this.saved ?? [];
  }
}

function edgeOf(t: Tensor): Edge | null {
  if (!t.requiresGrad) return null;
  return t.gradFn
    ? { node: t.gradFn, leaf: null, shape: t.shape, dtype: t.dtype }
    : { node: null, leaf: t, shape: t.shape, dtype: t.dtype };
}

/**
 * Attaches a graph node to `out` if gradients are being recorded, `out` is floating point and any
 * input requires gradients.
 * Returns `out` for chaining.
 */
export function record<C>(
  op: GraphOp,
  out: Tensor,
  inputs: readonly Tensor[],
  saved: readonly Tensor[],
  ctx: C,
  rule: BackwardRule<C>,
): Tensor {
  if (isAnomalyEnabled()) checkForward(op, out, inputs);
  if (!isGradEnabled() || !isFloat(out.dtype)) return out;
  let any = false;
  for (let i = 0; i < inputs.length; i++) if (inputs[i].requiresGrad) any = true;
  if (!any) return out;
  const next = new Array<Edge | null>(inputs.length);
  for (let i = 0; i < inputs.length; i++) next[i] = edgeOf(inputs[i]);
  out.gradFn = new GradNode(op, next, saved, ctx, rule as BackwardRule<never>, out.shape, out.dtype);
  if (saved.length > 0) noteSaved(saved);
  return out;
}
