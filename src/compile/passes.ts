/**
 * Passes over a traced plan before a backend prepares it: fusion (fuse.ts) and dead-op removal —
 * an op whose outputs nothing reads (no later op, no output of the plan) goes, unless it writes
 * into a storage from outside the plan (a parameter, optimizer state) or is a host step; buffers no
 * op uses any more go too (ids are renumbered densely).
 */
import { opAccesses as accesses, type Plan, type PlanOp, type PlanView, wholeView } from '../backend/plan.js';
import { fuse } from './fuse.js';

/** The plan after fusion (when asked), copy elision and dead-op removal. */
export function optimize(plan: Plan, opts: { fuse: boolean }): Plan {
  return compact(removeDead(elideCopies(opts.fuse ? fuse(plan) : plan)));
}

/**
 * Copy elision: a temp buffer that is copied whole into a storage from outside the plan (a
 * training step's gradient tensors), and not written after, is made in that storage directly — its
 * producer writes there and the copy goes. Only when nothing touches the storage between the
 * temp's first write and the copy, and the producer does not read it.
 */
function elideCopies(plan: Plan): Plan {
  const alias = new Map<number, number>();
  const ops = plan.ops;
  ops.forEach((o, i) => {
    if (o.op !== 'copyInto') return;
    const t = o.src.buffer;
    const g = o.dst.buffer;
    const tb = plan.buffers[t];
    const gb = plan.buffers[g];
    if (tb.kind !== 'temp' || gb.kind !== 'external' || tb.dtype !== gb.dtype || tb.length !== gb.length)
      return;
    if (alias.has(t) || !wholeView(plan, o.src) || !wholeView(plan, o.dst)) return;
    const first = ops.findIndex((q) => accesses(q).writes.includes(t));
    if (first < 0 || first > i) return;
    if (accesses(ops[first]).reads.some((r) => r.buffer === g)) return;
    for (let k = first + 1; k < ops.length; k++) {
      if (k === i) continue;
      const a = accesses(ops[k]);
      if (k > i && a.writes.includes(t)) return;
      if (k < i && (a.writes.includes(g) || a.reads.some((r) => r.buffer === g))) return;
    }
    alias.set(t, g);
  });
  if (alias.size === 0) return plan;
  const id = (b: number) => alias.get(b) ?? b;
  const view = (v: PlanView): PlanView => ({ ...v, buffer: id(v.buffer) });
  const kept = ops.filter((o) => !(o.op === 'copyInto' && alias.get(o.src.buffer) === o.dst.buffer));
  return { ...plan, ops: kept.map((o) => renumber(o, id, view)), outputs: plan.outputs.map(view) };
}

function removeDead(plan: Plan): Plan {
  const live = new Set<number>(plan.outputs.map((v) => v.buffer));
  const keep: PlanOp[] = [];
  for (let i = plan.ops.length - 1; i >= 0; i--) {
    const o = plan.ops[i];
    const { reads, writes } = accesses(o);
    const needed = o.op === 'host' || writes.some((b) => live.has(b) || plan.buffers[b].kind !== 'temp');
    if (!needed) continue;
    keep.push(o);
    for (const r of reads) live.add(r.buffer);
  }
  return { ...plan, ops: keep.reverse() };
}

/** Renumbers the buffers the ops and outputs use as 0…n−1, dropping the rest. */
function compact(plan: Plan): Plan {
  const used = new Set<number>(plan.outputs.map((v) => v.buffer));
  for (const o of plan.ops) {
    const { reads, writes } = accesses(o);
    for (const r of reads) used.add(r.buffer);
    for (const w of writes) used.add(w);
  }
  const ids = new Map<number, number>();
  const buffers = plan.buffers
    .filter((b) => used.has(b.id))
    .map((b, i) => {
      ids.set(b.id, i);
      return { ...b, id: i };
    });
  const id = (b: number) => ids.get(b) as number;
  const view = (v: PlanView): PlanView => ({ ...v, buffer: id(v.buffer) });
  return { buffers, ops: plan.ops.map((o) => renumber(o, id, view)), outputs: plan.outputs.map(view) };
}

/** `o` with each field named in `f` that it has (not undefined) mapped by f's function for it. */
function mapFields<T extends object>(o: T, f: { [K in keyof T]?: (v: NonNullable<T[K]>) => T[K] }): T {
  const r = { ...o };
  for (const k of Object.keys(f) as (keyof T)[]) {
    const v = o[k];
    if (v !== undefined)
      r[k] = (f[k] as (v: NonNullable<T[keyof T]>) => T[keyof T])(v as NonNullable<T[keyof T]>);
  }
  return r;
}

/** An op with its buffer ids mapped. */
function renumber(o: PlanOp, id: (b: number) => number, view: (v: PlanView) => PlanView): PlanOp {
  switch (o.op) {
    case 'host':
      return o;
    case 'unary':
    case 'reduce':
    case 'argReduce':
      return { ...o, x: view(o.x), out: id(o.out) };
    case 'binary':
      return { ...o, a: view(o.a), b: view(o.b), out: id(o.out) };
    case 'where':
      return { ...o, cond: view(o.cond), a: view(o.a), b: view(o.b), out: id(o.out) };
    case 'matmul':
      return mapFields(o, { a: view, b: view, bias: view, out: id });
    case 'gather':
    case 'indexSelect':
      return { ...o, x: view(o.x), index: view(o.index), out: id(o.out) };
    case 'scatterAdd':
    case 'indexAdd':
      return { ...o, index: view(o.index), src: view(o.src), out: id(o.out) };
    case 'copyInto':
      return { ...o, dst: view(o.dst), src: view(o.src) };
    case 'dropout':
      return { ...o, x: view(o.x), out: id(o.out), mask: id(o.mask) };
    case 'random':
      return { ...o, out: id(o.out) };
    case 'axpy':
      return { ...o, y: view(o.y), x: view(o.x) };
    case 'optimizerStep':
      return { ...o, w: view(o.w), g: view(o.g), state: o.state.map(view) };
    case 'softmaxCrossEntropy':
      return { ...o, x: view(o.x), target: view(o.target), loss: id(o.loss), probs: id(o.probs) };
    case 'softmaxCrossEntropyGrad':
      return { ...o, probs: view(o.probs), target: view(o.target), g: view(o.g), out: id(o.out) };
    case 'linearAct': {
      const dropout = (d: NonNullable<typeof o.dropout>) => ({ ...d, mask: id(d.mask) });
      return mapFields(o, { x: view, w: view, bias: view, out: id, hidden: id, dropout });
    }
    case 'reluBackward':
      return mapFields(o, { g: view, h: view, mask: view, out: id, biasGrad: id });
    case 'crossEntropyStep':
      return { ...o, x: view(o.x), target: view(o.target), g: view(o.g), loss: id(o.loss), dx: id(o.dx) };
    case 'gatherPixels':
      return { ...o, x: view(o.x), index: view(o.index), out: id(o.out) };
    default:
      return o satisfies never;
  }
}
