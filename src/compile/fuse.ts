/**
 * Kernel fusion over a traced plan: kernel sequences of the shapes below become the fused ops of
 * backend/fused.ts (whose definitions are exactly those sequences), when the intermediate buffers
 * have no other reader and nothing in between touches what moves:
 *
 * - forward: matmul (2-D, float32) → relu → [dropout]  ⇒  linearAct (relu and dropout in one pass)
 * - backward: [mul(g, mask)] → reluGrad(·, h) → [sum over rows]  ⇒  reluBackward (with the bias
 *   gradient in the same pass)
 * - loss: softmaxCrossEntropy → sum → div by the count, … softmaxCrossEntropyGrad with an upstream
 *   gradient known before the forward  ⇒  crossEntropyStep
 * - data: indexSelect of uint8 rows → cast to float32 → div by a constant  ⇒  gatherPixels (a batch
 *   of images gathered from their stored bytes and made floats in one pass; ImageDataset)
 *
 * Operands must be whole contiguous buffers (kernels made them). Everything else stays as traced.
 */
import type { FusedOp } from '../backend/fused.js';
import { opAccesses, type Plan, type PlanOp, type PlanView, wholeView } from '../backend/plan.js';
import { isRowMajor } from '../util/shape.js';

/** Uses of each buffer: the ops that read it, and whether the plan returns it. */
interface Uses {
  readers: number[][];
  output: Set<number>;
}

function usesOf(plan: Plan, ops: readonly (PlanOp | null)[]): Uses {
  const readers = plan.buffers.map(() => [] as number[]);
  ops.forEach((o, i) => {
    if (!o) return;
    for (const r of opAccesses(o).reads) readers[r.buffer].push(i);
  });
  return { readers, output: new Set(plan.outputs.map((v) => v.buffer)) };
}

/** A whole contiguous float32 buffer of `shape` viewed as is. */
function whole(plan: Plan, v: PlanView, shape?: readonly number[]): boolean {
  if (plan.buffers[v.buffer].dtype !== 'float32' || !wholeView(plan, v)) return false;
  return !shape || (shape.length === v.shape.length && shape.every((d, i) => d === v.shape[i]));
}

/** The only reader of buffer b is op `at` (and the plan does not return it). */
function onlyReader(u: Uses, b: number, at: number): boolean {
  return !u.output.has(b) && u.readers[b].length > 0 && u.readers[b].every((r) => r === at);
}

/** No op strictly between i and j writes any of `buffers` or is a host step. */
function quietBetween(
  ops: readonly (PlanOp | null)[],
  i: number,
  j: number,
  buffers: readonly number[],
): boolean {
  for (let k = i + 1; k < j; k++) {
    const o = ops[k];
    if (!o) continue;
    if (o.op === 'host') return false;
    if (opAccesses(o).writes.some((w) => buffers.includes(w))) return false;
  }
  return true;
}

/** The plan with fusable kernel sequences replaced by fused ops. */
export function fuse(plan: Plan): Plan {
  const ops: (PlanOp | null)[] = [...plan.ops];
  fuseGatherPixels(plan, ops);
  fuseLinear(plan, ops);
  fuseReluBackward(plan, ops);
  fuseCrossEntropy(plan, ops);
  return { ...plan, ops: ops.filter((o): o is PlanOp => o !== null) };
}

/** indexSelect (uint8 rows) → cast to float32 → div by a constant ⇒ gatherPixels, at div's place. */
function fuseGatherPixels(plan: Plan, ops: (PlanOp | null)[]): void {
  const u = usesOf(plan, ops);
  for (let i = 0; i < ops.length; i++) {
    const pick = ops[i];
    if (pick?.op !== 'indexSelect' || pick.axis !== 0 || pick.dtype !== 'uint8') continue;
    if (!isRowMajor(pick.x) || pick.x.shape.length < 2 || plan.buffers[pick.index.buffer].dtype !== 'int32')
      continue;
    const [j] = u.readers[pick.out];
    const cast = ops[j];
    if (!onlyReader(u, pick.out, j) || cast?.op !== 'unary' || cast.kind !== 'copy') continue;
    if (cast.dtype !== 'float32' || !wholeView(plan, cast.x)) continue;
    const [k] = u.readers[cast.out];
    const div = ops[k];
    if (!onlyReader(u, cast.out, k) || div?.op !== 'binary' || div.kind !== 'div') continue;
    if (div.dtype !== 'float32' || div.a.buffer !== cast.out || !whole(plan, div.a)) continue;
    // The divisor: one constant element (a scalar the trace met as data).
    const d = plan.buffers[div.b.buffer];
    if (d.kind !== 'external' || d.length !== 1 || d.dtype !== 'float32') continue;
    if (!quietBetween(ops, i, k, [pick.x.buffer, pick.index.buffer])) continue;
    ops[i] = null;
    ops[j] = null;
    ops[k] = {
      op: 'gatherPixels',
      x: pick.x,
      index: pick.index,
      divisor: d.storage.readElement(div.b.offset),
      out: div.out,
      dtype: 'float32',
    };
  }
}

/** matmul → relu → [dropout] ⇒ linearAct, at the last op's place. */
function fuseLinear(plan: Plan, ops: (PlanOp | null)[]): void {
  let u = usesOf(plan, ops);
  for (let i = 0; i < ops.length; i++) {
    const mm = ops[i];
    if (mm?.op !== 'matmul' || mm.shape.length !== 2 || mm.dtype !== 'float32') continue;
    const [j] = u.readers[mm.out];
    const relu = ops[j];
    if (!onlyReader(u, mm.out, j) || !relu || relu.op !== 'unary' || relu.kind !== 'relu') continue;
    if (!whole(plan, relu.x, mm.shape) || relu.dtype !== 'float32') continue;
    const inputs = [mm.a.buffer, mm.b.buffer, ...(mm.bias ? [mm.bias.buffer] : [])];
    let at = j;
    let fused: FusedOp = {
      op: 'linearAct',
      x: mm.a,
      w: mm.b,
      ...(mm.bias ? { bias: mm.bias } : {}),
      act: 'relu',
      shape: mm.shape,
      out: relu.out,
      dtype: 'float32',
    };
    const next = u.readers[relu.out];
    const k = next.length > 0 ? Math.min(...next) : -1;
    const drop = k >= 0 ? ops[k] : null;
    if (drop && drop.op === 'dropout' && whole(plan, drop.x, mm.shape) && quietBetween(ops, i, k, inputs)) {
      at = k;
      fused = {
        ...fused,
        out: drop.out,
        hidden: relu.out,
        dropout: { p: drop.p, scale: drop.scale, rng: drop.rng, mask: drop.mask },
      };
    } else if (!quietBetween(ops, i, j, inputs)) continue;
    ops[i] = null;
    if (at !== j) ops[j] = null;
    ops[at] = fused;
    u = usesOf(plan, ops);
  }
}

/** [mul(g, mask)] → reluGrad(t, h) → [sum over rows] ⇒ reluBackward, at reluGrad's place. */
function fuseReluBackward(plan: Plan, ops: (PlanOp | null)[]): void {
  let u = usesOf(plan, ops);
  for (let j = 0; j < ops.length; j++) {
    const rg = ops[j];
    if (rg?.op !== 'binary' || rg.kind !== 'reluGrad' || rg.dtype !== 'float32') continue;
    const shape = rg.shape;
    if (shape.length !== 2 || !whole(plan, rg.a, shape) || !whole(plan, rg.b, shape)) continue;
    let g = rg.a;
    let mask: PlanView | undefined;
    let mulAt = -1;
    const producer = ops.findIndex((o) => o !== null && opAccesses(o).writes.includes(rg.a.buffer));
    const mul = producer >= 0 ? ops[producer] : null;
    if (
      mul &&
      mul.op === 'binary' &&
      mul.kind === 'mul' &&
      onlyReader(u, rg.a.buffer, j) &&
      whole(plan, mul.a, shape) &&
      whole(plan, mul.b, shape) &&
      quietBetween(ops, producer, j, [mul.a.buffer, mul.b.buffer])
    ) {
      g = mul.a;
      mask = mul.b;
      mulAt = producer;
    }
    // The bias gradient: a sum over rows of dz that nothing between writes into.
    let sumAt = -1;
    for (const r of u.readers[rg.out]) {
      const s = ops[r];
      if (
        s &&
        s.op === 'reduce' &&
        s.kind === 'sum' &&
        s.dtype === 'float32' &&
        s.axes.length === 1 &&
        s.axes[0] === 0 &&
        whole(plan, s.x, shape)
      ) {
        sumAt = r;
        break;
      }
    }
    const sum = sumAt >= 0 ? (ops[sumAt] as Extract<PlanOp, { op: 'reduce' }>) : null;
    ops[j] = {
      op: 'reluBackward',
      g,
      h: rg.b,
      ...(mask ? { mask } : {}),
      out: rg.out,
      ...(sum ? { biasGrad: sum.out } : {}),
      dtype: 'float32',
    };
    if (mulAt >= 0) ops[mulAt] = null;
    if (sumAt >= 0) ops[sumAt] = null;
    u = usesOf(plan, ops);
  }
}

/** softmaxCrossEntropy → sum → div … softmaxCrossEntropyGrad ⇒ crossEntropyStep, at div's place. */
function fuseCrossEntropy(plan: Plan, ops: (PlanOp | null)[]): void {
  const u = usesOf(plan, ops);
  for (let i = 0; i < ops.length; i++) {
    const ce = ops[i];
    if (ce?.op !== 'softmaxCrossEntropy' || ce.dtype !== 'float32') continue;
    const [r1] = u.readers[ce.loss];
    const sum = ops[r1];
    if (sum?.op !== 'reduce' || sum.kind !== 'sum' || !onlyReader(u, ce.loss, r1)) continue;
    const [r2] = u.readers[sum.out];
    const div = ops[r2];
    if (div?.op !== 'binary' || div.kind !== 'div' || !onlyReader(u, sum.out, r2)) continue;
    const count = plan.buffers[div.b.buffer];
    if (count.kind !== 'external' || div.a.buffer !== sum.out) continue;
    const [r3] = u.readers[ce.probs];
    const grad = ops[r3];
    if (grad?.op !== 'softmaxCrossEntropyGrad' || !onlyReader(u, ce.probs, r3)) continue;
    const n = ce.x.shape[0];
    const c = count.storage.readElement(div.b.offset);
    const reduction =
      grad.factor === 1 / Math.max(n, 1) && c === Math.max(n, 1)
        ? 'mean'
        : grad.factor === 1 && c === 1
          ? 'sum'
          : null;
    if (!reduction || grad.target.buffer !== ce.target.buffer) continue;
    // The upstream gradient must exist when the forward runs (a constant, or made before it).
    const gb = grad.g.buffer;
    const madeAt = ops.findIndex((o) => o !== null && opAccesses(o).writes.includes(gb));
    if (plan.buffers[gb].kind !== 'external' && !(madeAt >= 0 && madeAt < i)) continue;
    if (!quietBetween(ops, i, r3, [ce.x.buffer, ce.target.buffer, gb])) continue;
    ops[i] = null;
    ops[r1] = null;
    ops[r3] = null;
    ops[r2] = {
      op: 'crossEntropyStep',
      x: ce.x,
      target: ce.target,
      g: grad.g,
      reduction,
      loss: div.out,
      dx: grad.out,
      dtype: 'float32',
    };
  }
}
