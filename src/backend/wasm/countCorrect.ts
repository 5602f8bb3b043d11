/**
 * The accuracy count of a training or evaluation step — `sum(cast(eq(argmax(x, 1), t), int32))`,
 * train/metrics.ts `countCorrect` — run by the CPU plan runner as one wasm pass over the logits
 * (assembly/count.ts) instead of four kernels: ~56 → ~13 µs a step of the dropout MLP (3 µs alone;
 * in the step it is the first read of logits the other BLAS thread wrote). The plan keeps its four
 * ops (the GPU runner runs them as they are); the runner finds the chain, binds its last op to this
 * pass and the others to nothing. Only where the chain's middle buffers have no other reader and
 * are not returned, the logits are a contiguous float32 [N, C] and the labels int32 [N]. The count
 * is the chain's: the argmax is the first largest logit, a NaN wins at its position (as the js
 * kernel).
 */
import { opAccesses, type Plan, type PlanView, wholeView } from '../plan.js';

/** One chain: its four op indices (the sum last), the logits, the labels and the count's buffer. */
export interface CountChain {
  readonly ops: readonly [number, number, number, number];
  readonly x: PlanView;
  readonly target: PlanView;
  readonly out: number;
}

/** The count chains of a plan, by the index of each chain's final sum. */
export function countChains(plan: Plan): Map<number, CountChain> {
  const readers = plan.buffers.map(() => [] as number[]);
  plan.ops.forEach((o, i) => {
    for (const r of opAccesses(o).reads) readers[r.buffer].push(i);
  });
  const returned = new Set(plan.outputs.map((v) => v.buffer));
  /** The one op reading buffer b (and b not returned), else −1. */
  const soleReader = (b: number) => (!returned.has(b) && readers[b].length === 1 ? readers[b][0] : -1);
  const chains = new Map<number, CountChain>();
  plan.ops.forEach((arg, i) => {
    if (arg.op !== 'argReduce' || arg.kind !== 'argmax' || arg.x.shape.length !== 2 || arg.axis !== 1) return;
    if (arg.x.shape[1] === 0) return;
    const n = arg.x.shape[0];
    if (plan.buffers[arg.x.buffer].dtype !== 'float32' || !wholeRows(arg.x)) return;
    const j = soleReader(arg.out);
    const eq = plan.ops[j];
    if (eq?.op !== 'binary' || eq.kind !== 'eq' || eq.a.buffer !== arg.out || !wholeView(plan, eq.a)) return;
    const t = eq.b;
    if (plan.buffers[t.buffer].dtype !== 'int32' || t.shape.length !== 1 || t.shape[0] !== n) return;
    const k = soleReader(eq.out);
    const cast = plan.ops[k];
    if (cast?.op !== 'unary' || cast.kind !== 'copy' || cast.dtype !== 'int32' || !wholeView(plan, cast.x))
      return;
    const l = soleReader(cast.out);
    const sum = plan.ops[l];
    if (sum?.op !== 'reduce' || sum.kind !== 'sum' || sum.dtype !== 'int32' || !wholeView(plan, sum.x))
      return;
    if (sum.axes.length !== 1 || sum.axes[0] !== 0) return;
    // Nothing between the argmax and the sum may write the logits or the labels.
    for (let q = i + 1; q < l; q++) {
      if (q === j || q === k) continue;
      const o = plan.ops[q];
      if (o.op === 'host') return;
      if (opAccesses(o).writes.some((w) => w === arg.x.buffer || w === t.buffer)) return;
    }
    chains.set(l, { ops: [i, j, k, l], x: arg.x, target: t, out: sum.out });
  });
  return chains;
}

/** Rows of a 2-D view laid out one after another, each contiguous. */
function wholeRows(v: PlanView): boolean {
  return v.strides[1] === 1 && v.strides[0] === v.shape[1];
}
