/**
 * Memory planning for a plan (the compile layer's arena, as XLA's buffer assignment and TVM's static
 * planner do): every buffer the plan makes or takes as input gets an offset in one arena, reused by
 * buffers whose lifetimes do not overlap. A buffer lives from the op that first writes it to the op
 * that last reads it — inputs and the plan's outputs for the whole run. An op's outputs never share
 * bytes with its inputs (kernels are not asked to run in place). Greedy first fit over the free
 * ranges, in op order; offsets and sizes are multiples of `align` bytes.
 */
import { bytesPerElement } from '../util/dtype.js';
import { opAccesses, type Plan } from './plan.js';

/** Where each planned buffer sits in the arena (byte offsets), and the arena's size. */
export interface ArenaLayout {
  /** Byte offset of each 'temp' and 'input' buffer (undefined for externals). */
  readonly offsets: readonly (number | undefined)[];
  readonly bytes: number;
}

/** Assigns arena offsets to a plan's temp and input buffers by lifetime. */
export function planArena(plan: Plan, align = 64): ArenaLayout {
  const n = plan.buffers.length;
  const first = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  const last = new Array<number>(n).fill(-1);
  const end = plan.ops.length;
  plan.ops.forEach((o, i) => {
    const { reads, writes } = opAccesses(o);
    for (const r of reads) last[r.buffer] = Math.max(last[r.buffer], i);
    for (const w of writes) {
      first[w] = Math.min(first[w], i);
      last[w] = Math.max(last[w], i);
    }
  });
  for (const b of plan.buffers) {
    if (b.kind === 'input') {
      first[b.id] = -1;
      last[b.id] = end;
    }
  }
  for (const v of plan.outputs) last[v.buffer] = end;
  const size = (id: number) => {
    const b = plan.buffers[id];
    return Math.max(align, Math.ceil((b.length * bytesPerElement(b.dtype)) / align) * align);
  };
  // Buffers in order of birth; each takes the first free range that fits once the buffers that
  // died before its birth op are freed.
  const order = plan.buffers
    .filter((b) => b.kind !== 'external' && last[b.id] >= 0)
    .map((b) => b.id)
    .sort((a, b) => first[a] - first[b] || a - b);
  const offsets = new Array<number | undefined>(n).fill(undefined);
  const free: { start: number; end: number }[] = [];
  const live: number[] = [];
  let top = 0;
  const release = (id: number) => {
    const start = offsets[id] as number;
    const stop = start + size(id);
    free.push({ start, end: stop });
    free.sort((a, b) => a.start - b.start);
    for (let i = free.length - 1; i > 0; i--) {
      if (free[i - 1].end === free[i].start) {
        free[i - 1].end = free[i].end;
        free.splice(i, 1);
      }
    }
    const tail = free.at(-1);
    if (tail && tail.end === top) {
      top = tail.start;
      free.pop();
    }
  };
  for (const id of order) {
    const born = first[id];
    for (let i = live.length - 1; i >= 0; i--) {
      if (last[live[i]] < born) {
        release(live[i]);
        live.splice(i, 1);
      }
    }
    const need = size(id);
    const slot = free.findIndex((f) => f.end - f.start >= need);
    if (slot >= 0) {
      offsets[id] = free[slot].start;
      free[slot].start += need;
      if (free[slot].start === free[slot].end) free.splice(slot, 1);
    } else {
      offsets[id] = top;
      top += need;
    }
    live.push(id);
  }
  let bytes = 0;
  for (const id of order) bytes = Math.max(bytes, (offsets[id] as number) + size(id));
  return { offsets, bytes };
}
