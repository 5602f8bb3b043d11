/**
 * The computational graph made visible: `toDot` (Graphviz) and `toMermaid` draw the graph that
 * produced a tensor — op nodes with their output shapes, leaf tensors, and the tensors each op keeps
 * for backward (dashed) — and `savedBytes`/`graphStats` count the memory those saved tensors hold
 * (each buffer once), which is what training needs on top of prediction.
 */
import type { Tensor } from '../tensor/tensor.js';
import { bytesPerElement } from '../util/dtype.js';
import { fmtShape } from '../util/errors.js';
import type { GradNode } from './node.js';

/** Counts of a graph. */
export interface GraphStats {
  /** Op nodes reachable from the tensor. */
  nodes: number;
  /** Distinct buffers kept for backward. */
  savedBuffers: number;
  /** Bytes of all buffers kept for backward (each counted once). */
  savedBytes: number;
  /**
   * Bytes kept for backward beyond the parameters (leaves that require grad): activations, inputs,
   * dropout masks — the memory training needs on top of prediction, growing with the batch.
   */
  activationBytes: number;
}

function walk(t: Tensor): GradNode[] {
  const out: GradNode[] = [];
  if (!t.gradFn) return out;
  const seen = new Set<GradNode>([t.gradFn]);
  const stack = [t.gradFn];
  while (stack.length) {
    const n = stack.pop() as GradNode;
    out.push(n);
    for (const e of n.next) {
      if (e?.node && !seen.has(e.node)) {
        seen.add(e.node);
        stack.push(e.node);
      }
    }
  }
  return out.sort((a, b) => a.id - b.id);
}

/** Bytes a tensor's storage holds. */
function storageBytes(t: Tensor): number {
  return t.storage.length * bytesPerElement(t.storage.dtype);
}

/** Memory statistics of the graph that produced `t` (all zero for a tensor made under `noGrad`). */
export function graphStats(t: Tensor): GraphStats {
  const nodes = walk(t);
  // Buffers of leaves that require grad (parameters): kept whether or not we train.
  const paramBuffers = new Set<object>();
  for (const n of nodes) for (const e of n.next) if (e?.leaf) paramBuffers.add(e.leaf.storage);
  // Keyed by the storage (every view of a tensor shares it).
  const buffers = new Map<object, number>();
  for (const n of nodes) for (const s of n.savedTensors()) buffers.set(s.storage, storageBytes(s));
  let savedBytes = 0;
  let activationBytes = 0;
  for (const [buf, bytes] of buffers) {
    savedBytes += bytes;
    if (!paramBuffers.has(buf)) activationBytes += bytes;
  }
  return { nodes: nodes.length, savedBuffers: buffers.size, savedBytes, activationBytes };
}

/** Bytes held for backward by the graph that produced `t` (each buffer counted once). */
export function savedBytes(t: Tensor): number {
  return graphStats(t).savedBytes;
}

interface Drawn {
  ops: { id: string; label: string }[];
  leaves: { id: string; label: string; grad: boolean }[];
  saved: { id: string; label: string }[];
  edges: { from: string; to: string; dashed: boolean }[];
  root: { id: string; label: string };
}

function describe(t: Tensor): string {
  return `${fmtShape(t.shape)} ${t.dtype}`;
}

function draw(t: Tensor): Drawn {
  const nodes = walk(t);
  const d: Drawn = {
    ops: [],
    leaves: [],
    saved: [],
    edges: [],
    root: { id: 'out', label: `${t.name ?? 'output'} ${describe(t)}` },
  };
  const leafIds = new Map<Tensor, string>();
  const savedIds = new Map<object, string>();
  for (const n of nodes) {
    const id = `op${n.id}`;
    d.ops.push({ id, label: `${n.op} → ${fmtShape(n.shape)}` });
    n.next.forEach((e) => {
      if (!e) return;
      if (e.node) d.edges.push({ from: `op${e.node.id}`, to: id, dashed: false });
      else if (e.leaf) {
        let lid = leafIds.get(e.leaf);
        if (!lid) {
          lid = `leaf${leafIds.size}`;
          leafIds.set(e.leaf, lid);
          d.leaves.push({ id: lid, label: `${e.leaf.name ?? 'leaf'} ${describe(e.leaf)}`, grad: true });
        }
        d.edges.push({ from: lid, to: id, dashed: false });
      }
    });
    for (const s of n.savedTensors()) {
      let sid = savedIds.get(s.storage);
      if (!sid) {
        sid = `saved${savedIds.size}`;
        savedIds.set(s.storage, sid);
        d.saved.push({ id: sid, label: `saved ${describe(s)} (${storageBytes(s)} B)` });
      }
      d.edges.push({ from: sid, to: id, dashed: true });
    }
  }
  if (t.gradFn) d.edges.push({ from: `op${t.gradFn.id}`, to: 'out', dashed: false });
  return d;
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** Graphviz DOT text of the graph that produced `t`: ops (boxes), leaves (ellipses), saved tensors (dashed notes). */
export function toDot(t: Tensor): string {
  const d = draw(t);
  const lines = ['digraph keel {', '  rankdir=BT;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const l of d.leaves)
    lines.push(`  ${l.id} [label="${esc(l.label)}", shape=ellipse, style=filled, fillcolor="#dbeafe"];`);
  for (const o of d.ops)
    lines.push(
      `  ${o.id} [label="${esc(o.label)}", shape=box, style="rounded,filled", fillcolor="#fef3c7"];`,
    );
  for (const s of d.saved)
    lines.push(`  ${s.id} [label="${esc(s.label)}", shape=note, fontcolor="#6b7280", color="#9ca3af"];`);
  lines.push(
    `  ${d.root.id} [label="${esc(d.root.label)}", shape=ellipse, style=filled, fillcolor="#dcfce7"];`,
  );
  for (const e of d.edges)
    lines.push(`  ${e.from} -> ${e.to}${e.dashed ? ' [style=dashed, color="#9ca3af"]' : ''};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Mermaid flowchart text of the graph that produced `t` (saved tensors linked with dotted arrows). */
export function toMermaid(t: Tensor): string {
  const d = draw(t);
  const q = (s: string) => `"${s.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart BT'];
  for (const l of d.leaves) lines.push(`  ${l.id}([${q(l.label)}])`);
  for (const o of d.ops) lines.push(`  ${o.id}[${q(o.label)}]`);
  for (const s of d.saved) lines.push(`  ${s.id}>${q(s.label)}]`);
  lines.push(`  ${d.root.id}((${q(d.root.label)}))`);
  for (const e of d.edges) lines.push(`  ${e.from} ${e.dashed ? '-.->' : '-->'} ${e.to}`);
  return `${lines.join('\n')}\n`;
}
