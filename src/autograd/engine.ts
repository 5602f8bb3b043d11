/**
 * The backward sweep. From the output's node it orders the graph topologically (Kahn's algorithm
 * over dependency counts), calls each node's rule once with the summed gradient of its output,
 * sums the results down to each input's shape (un-broadcast) and hands them on — to the next node,
 * or to a leaf's `.grad` (accumulating). Without `retainGraph` each node releases its saved tensors,
 * and a second sweep through it throws; the gradients the sweep used up and a built-in rule's
 * temporaries go back to the memory pool at once, without waiting for the garbage collector (see
 * also transient.ts). With `createGraph` the rules run with recording on, so the
 * gradients are differentiable (higher-order derivatives). The few ops the sweep needs (add,
 * sum-to-shape, cast) are installed by ops/, keeping autograd free of specific ops.
 */
import { recyclingPaused } from '../backend/host.js';
import { collectMade, lastSerial } from '../backend/serial.js';
import type { DType, Storage } from '../backend/types.js';
import { onesLike } from '../tensor/create.js';
import { ownsUnreadGrad, peekGrad, setOwnGrad, Tensor } from '../tensor/tensor.js';
import { AutogradError, fmtShape, ShapeError } from '../util/errors.js';
import { sameShape } from '../util/shape.js';
import { checkBackward, inBackwardOf, isAnomalyEnabled } from './anomaly.js';
import { withGradMode } from './mode.js';
import type { GradNode } from './node.js';
import { escapeTransient, noteFreed } from './transient.js';

/** The ops the engine needs, installed by the ops layer. */
export interface GradOps {
  add(a: Tensor, b: Tensor): Tensor;
  sumToShape(g: Tensor, shape: readonly number[]): Tensor;
  cast(g: Tensor, dtype: DType): Tensor;
}

let ops: GradOps | null = null;

/** @internal Called once by ops/ at load time. */
export function installGradOps(o: GradOps): void {
  ops = o;
}

/** Observes each node's gradients during backward (used by anomaly detection). */
export type BackwardObserver = (node: GradNode, gradOut: Tensor, gradsIn: readonly (Tensor | null)[]) => void;
const observers = new Set<BackwardObserver>();

/** Registers an observer called after every node's backward rule; returns a function that removes it. */
export function observeBackward(fn: BackwardObserver): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

/** Options of `backward`. */
export interface BackwardOptions {
  /** Gradient of the output (required unless the output has one element). Same shape as the output. */
  gradient?: Tensor;
  /** Keep saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
  /** Record the backward computation itself, for higher-order derivatives (implies retainGraph). */
  createGraph?: boolean;
}

interface Sweep {
  roots: readonly Tensor[];
  rootGrads: readonly Tensor[];
  retainGraph: boolean;
  createGraph: boolean;
  /** When set: collect gradients of these tensors instead of accumulating into leaves. */
  capture: Map<Tensor, Tensor | null> | null;
}

function gradOps(): GradOps {
  if (!ops) throw new AutogradError('autograd ops are not installed (import keel through its index)');
  return ops;
}

function checkRoot(op: string, t: Tensor, g: Tensor | undefined): Tensor {
  if (!t.requiresGrad) {
    throw new AutogradError(
      `${op}: the tensor does not require grad and has no gradFn; set requiresGrad on an input before computing it`,
    );
  }
  if (g === undefined) {
    if (t.size !== 1) {
      throw new AutogradError(
        `${op}: a gradient can be implied only for one-element outputs, got shape ${fmtShape(t.shape)}; pass a gradient of that shape`,
      );
    }
    return onesLike(t);
  }
  if (!sameShape(g.shape, t.shape)) {
    throw new ShapeError(
      `${op}: gradient has shape ${fmtShape(g.shape)} but the output has shape ${fmtShape(t.shape)}`,
    );
  }
  return g.dtype === t.dtype ? g : gradOps().cast(g, t.dtype);
}

/**
 * Gradients a sweep made and used up go back to the backend's pool at once (a plain training loop
 * that never yields to the event loop would otherwise wait for the garbage collector and the
 * pool's finalizers). A storage is released when the sweep made it (serial after the sweep began),
 * no pending gradient refers to it, and it did not escape (to a leaf's `.grad`, a retained or
 * captured gradient). Off with createGraph, capture, observers or anomaly mode, which may keep them.
 */
class Recycler {
  private readonly refs = new Map<Storage, number>();
  /**
   * Storages kept beyond the sweep: how many leaves' `.grad` each became, or Infinity for a root's
   * or a retained gradient.
   */
  private readonly escaped = new Map<Storage, number>();
  private readonly leaves: Tensor[] = [];
  private readonly since = lastSerial();

  /** A pending gradient refers to t. */
  hold(t: Tensor): void {
    this.refs.set(t.storage, (this.refs.get(t.storage) ?? 0) + 1);
  }

  /** A pending gradient no longer refers to t. */
  unhold(t: Tensor): void {
    const n = (this.refs.get(t.storage) ?? 1) - 1;
    if (n > 0) this.refs.set(t.storage, n);
    else this.refs.delete(t.storage);
    this.consider(t);
  }

  /** t is kept beyond the sweep (as a root's or a retained gradient). */
  escape(t: Tensor): void {
    this.escaped.set(t.storage, Number.POSITIVE_INFINITY);
  }

  /** t became `leaf.grad`. */
  toLeaf(leaf: Tensor, t: Tensor): void {
    this.escaped.set(t.storage, (this.escaped.get(t.storage) ?? 0) + 1);
    this.leaves.push(leaf);
  }

  /** Releases t's storage if nothing refers to it any more. */
  consider(t: Tensor): void {
    const st = t.storage;
    if ((st.serial ?? 0) > this.since && !this.refs.has(st) && !this.escaped.has(st)) st.release?.();
  }

  /**
   * After the sweep: a leaf's `.grad` whose storage the sweep made and gave to that leaf alone is the
   * leaf's own, so `dropGrad` may give it back to the pool if no one reads it.
   */
  settle(): void {
    for (const leaf of this.leaves) {
      const g = peekGrad(leaf);
      if (g && (g.storage.serial ?? 0) > this.since && this.escaped.get(g.storage) === 1) setOwnGrad(leaf, g);
    }
  }
}

/**
 * @internal Replaces `t.grad` by `g`, a tensor made for it alone (gradient clipping): the gradient it
 * replaces goes back to the pool if it was t's own and unread, and `g` becomes t's own.
 */
export function replaceGrad(t: Tensor, g: Tensor): void {
  const old = peekGrad(t);
  const own = old !== null && ownsUnreadGrad(t) && old.storage !== g.storage;
  t.grad = g;
  setOwnGrad(t, g);
  if (own) giveBack(old, 'this gradient was replaced (clipped) before anyone read it');
}

/**
 * @internal Sets `t.grad` to null (`zeroGrad`); a gradient that backward made for t alone and that
 * no one read goes back to the memory pool at once, so a plain training loop reuses it next step.
 */
export function dropGrad(t: Tensor): void {
  const g = peekGrad(t);
  if (g === null) return;
  const own = ownsUnreadGrad(t);
  t.grad = null;
  if (own) giveBack(g, 'this gradient was dropped by zeroGrad() before anyone read it');
}

/** Gives a leaf's own, unread gradient back to the pool (not while a compiled step is traced). */
function giveBack(g: Tensor, why: string): void {
  if (!recyclingPaused()) g.storage.release?.(why);
}

function accumulate(map: Map<GradNode, Tensor>, node: GradNode, g: Tensor, r: Recycler | null): void {
  const prev = map.get(node);
  if (!prev) {
    map.set(node, g);
    r?.hold(g);
    return;
  }
  const sum = gradOps().add(prev, g);
  map.set(node, sum);
  r?.hold(sum);
  r?.unhold(prev);
  r?.consider(g);
}

/** Told of every leaf whose `.grad` a backward sweep sets (the compile layer's tracer listens). */
let leafObserver: ((leaf: Tensor) => void) | null = null;

/** @internal Sets the observer of leaves receiving gradients; returns the previous one. */
export function observeLeafGrads(fn: ((leaf: Tensor) => void) | null): ((leaf: Tensor) => void) | null {
  const prev = leafObserver;
  leafObserver = fn;
  return prev;
}

function deliverToLeaf(s: Sweep, leaf: Tensor, g: Tensor, r: Recycler | null): void {
  if (s.capture) {
    if (s.capture.has(leaf)) {
      const prev = s.capture.get(leaf);
      s.capture.set(leaf, prev ? gradOps().add(prev, g) : g);
    }
    return;
  }
  const value = s.createGraph ? g : g.detach();
  leafObserver?.(leaf);
  const prev = peekGrad(leaf);
  const next = prev ? withGradMode(s.createGraph, () => gradOps().add(prev, value)) : value;
  leaf.grad = next;
  r?.toLeaf(leaf, next);
}

/** Releases the storages a rule made that are not (under) one of its results and that no node saves. */
function releaseTemporaries(made: readonly Storage[], results: readonly (Tensor | null)[]): void {
  for (const st of made) {
    if (st.savedBy) continue;
    let result = false;
    for (const t of results) if (t !== null && t.storage === st) result = true;
    if (!result) st.release?.();
  }
}

/** Topological dependency counts of the nodes reachable from `roots`. */
function dependencies(roots: readonly GradNode[]): Map<GradNode, number> {
  const deps = new Map<GradNode, number>();
  const stack = [...roots];
  for (const r of roots) if (!deps.has(r)) deps.set(r, 0);
  const seen = new Set<GradNode>(roots);
  while (stack.length) {
    const node = stack.pop() as GradNode;
    for (const e of node.next) {
      if (!e?.node) continue;
      deps.set(e.node, (deps.get(e.node) ?? 0) + 1);
      if (!seen.has(e.node)) {
        seen.add(e.node);
        stack.push(e.node);
      }
    }
  }
  return deps;
}

function run(s: Sweep): void {
  const pending = new Map<GradNode, Tensor>();
  const rootNodes: GradNode[] = [];
  const recycler =
    !s.createGraph && !s.capture && observers.size === 0 && !isAnomalyEnabled() ? new Recycler() : null;
  s.roots.forEach((t, i) => {
    recycler?.escape(s.rootGrads[i]);
    if (t.gradFn) {
      accumulate(pending, t.gradFn, s.rootGrads[i], recycler);
      rootNodes.push(t.gradFn);
    } else deliverToLeaf(s, t, s.rootGrads[i], recycler);
  });
  const deps = dependencies(rootNodes);
  const ready = [...new Set(rootNodes)].filter((n) => deps.get(n) === 0);
  let captureByNode: Map<GradNode, Tensor> | null = null;
  if (s.capture) {
    captureByNode = new Map();
    for (const t of s.capture.keys()) if (t.gradFn) captureByNode.set(t.gradFn, t);
  }
  const o = gradOps();
  const spent: Tensor[] = [];
  withGradMode(s.createGraph, () => {
    while (ready.length) {
      const node = ready.pop() as GradNode;
      const g = pending.get(node);
      pending.delete(node);
      if (!g) continue;
      if (node.retained) {
        node.retained.grad = s.createGraph ? g : g.detach();
        recycler?.escape(g);
      }
      const captured = captureByNode?.get(node);
      if (captured && s.capture) s.capture.set(captured, g);
      if (node.freed) {
        throw new AutogradError(
          `backward: trying to run backward through the graph a second time at '${node.op}': its saved tensors were freed after the first backward; pass { retainGraph: true } to the first call`,
        );
      }
      const saved = node.savedTensors();
      const anomaly = isAnomalyEnabled();
      // Anomaly bookkeeping (input shapes, attribution of ops inside the rule) only when it is on.
      // The storages a built-in rule makes besides its results (tanh's 1 − y², GELU's terms) are
      // its temporaries: they go back to the pool once the results are handed on (below).
      const temps =
        recycler && !node.op.startsWith('custom:') && !recyclingPaused() ? ([] as Storage[]) : null;
      let grads: (Tensor | null)[];
      if (anomaly)
        grads = inBackwardOf(
          node.op,
          node.next.map((e) => e?.shape ?? []),
          () => node.rule(g, saved, node.ctx as never, node.needs),
        );
      else {
        const outer = temps ? collectMade(temps) : null;
        try {
          grads = node.rule(g, saved, node.ctx as never, node.needs);
        } finally {
          if (temps) collectMade(outer);
        }
      }
      if (anomaly)
        checkBackward(
          node.op,
          g,
          grads,
          node.next.map((e) => e?.shape ?? []),
        );
      if (observers.size > 0) for (const fn of observers) fn(node, g, grads);
      if (!s.retainGraph && node.saved && node.saved.length > 0) {
        for (const t of grads) if (t) escapeTransient(t);
        noteFreed(node.saved);
        node.saved = null;
        node.freed = true;
      }
      for (let i = 0; i < node.next.length; i++) {
        const e = node.next[i];
        const raw = grads[i];
        let gi = e ? raw : null;
        if (gi && e) {
          if (!sameShape(gi.shape, e.shape)) gi = o.sumToShape(gi, e.shape);
          if (gi.dtype !== e.dtype) gi = o.cast(gi, e.dtype);
          if (e.node) accumulate(pending, e.node, gi, recycler);
          else if (e.leaf) deliverToLeaf(s, e.leaf, gi, recycler);
        }
        // What the rule returned but did not hand on as is (reduced, cast, or unused): after all
        // edges got theirs, since two outputs may be one tensor.
        if (raw && raw !== gi) spent.push(raw);
        if (!e) continue;
        if (e.node) {
          const left = (deps.get(e.node) as number) - 1;
          deps.set(e.node, left);
          if (left === 0) ready.push(e.node);
        }
      }
      if (recycler) for (const t of spent.splice(0)) recycler.consider(t);
      if (temps && temps.length > 0) releaseTemporaries(temps, grads);
      recycler?.unhold(g);
    }
  });
  recycler?.settle();
}

/**
 * Computes gradients of `t` with respect to every leaf that requires them, accumulating into `.grad`.
 * One-element outputs need no `gradient`; others need one of the same shape.
 */
export function backward(t: Tensor, opts: BackwardOptions = {}): void {
  const g = checkRoot('backward', t, opts.gradient);
  const createGraph = opts.createGraph ?? false;
  run({
    roots: [t],
    rootGrads: [g],
    retainGraph: opts.retainGraph ?? createGraph,
    createGraph,
    capture: null,
  });
}

/** Options of `grad`. */
export interface GradOptions {
  /** Gradients of the outputs (needed for outputs with more than one element). */
  gradOutputs?: readonly Tensor[];
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Return null (instead of throwing) for inputs the outputs do not depend on. */
  allowUnused?: boolean;
}

/**
 * Functional gradients: d(outputs)/d(inputs) returned as a list, without touching any `.grad`.
 * Inputs may be leaves or intermediate tensors.
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : [...outputs];
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  if (opts.gradOutputs && opts.gradOutputs.length !== outs.length) {
    throw new AutogradError(`grad: got ${opts.gradOutputs.length} gradOutputs for ${outs.length} outputs`);
  }
  const rootGrads = outs.map((t, i) => checkRoot('grad', t, opts.gradOutputs?.[i]));
  ins.forEach((t, i) => {
    if (!t.requiresGrad) throw new AutogradError(`grad: input ${i} does not require grad`);
  });
  const capture = new Map<Tensor, Tensor | null>(ins.map((t) => [t, null]));
  const createGraph = opts.createGraph ?? false;
  run({ roots: outs, rootGrads, retainGraph: opts.retainGraph ?? createGraph, createGraph, capture });
  return ins.map((t, i) => {
    const g = capture.get(t) ?? null;
    if (g === null && !opts.allowUnused) {
      throw new AutogradError(
        `grad: input ${i} was not used to compute the outputs (pass { allowUnused: true } to get null)`,
      );
    }
    return g;
  });
}
