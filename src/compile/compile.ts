/**
 * `compile(fn)`: a function over tensors that runs as a plan. The first call with a new signature
 * (backend, grad mode, the arguments' shapes and dtypes) runs `fn` eagerly under the tracer, which
 * records its kernels into a plan (trace.ts); the plan is optimized (passes.ts: dead ops removed,
 * kernels fused) and handed to the backend (`prepare`: the CPU backends bind it to one arena) or to
 * the replay runner. Later calls replay it: no ops, autograd or graph objects, and on an arena
 * runner no allocation at all.
 *
 * What a plan holds, as jax.jit and tf.function do: the kernels `fn` ran and the storages it read,
 * by reference — so parameters, optimizer state and data sets are read as they are at each call —
 * with JS values it read (a dropout p, a module's train flag, a scalar) fixed at the trace, except
 * what keel advances through host steps (an optimizer's step count and hyper-parameters: schedulers
 * work) and generator draws (dropout masks differ per call, as eagerly). The gradients backward
 * gave to leaves are set again after each replay. Returned tensors are detached views of the plan's
 * buffers: the next call overwrites them (clone one to keep it).
 *
 * A function that reads a tensor to the host while traced (`item`, `readSync`), writes into its
 * arguments, or runs a kernel the tracer cannot record cannot be compiled: the first call throws a
 * `CompileError` naming it — or, with `fallback: 'eager'`, runs eagerly from then on and says why
 * (`eagerReason`, `onFallback`). Either way the generators it drew from are put back first.
 */

import { z } from 'zod';
import { observeLeafGrads } from '../autograd/engine.js';
import { isGradEnabled, NotTraceableError, whileTracing } from '../autograd/mode.js';
import { recordTaps, type TapFn } from '../autograd/taps.js';
import { guardDoors, pauseRecycling } from '../backend/host.js';
import type { Plan, PlanRunner, PlanView } from '../backend/plan.js';
import { backend, setHostRecorder, withBackend } from '../backend/registry.js';
import { replayRunner } from '../backend/replay.js';
import type { View } from '../backend/types.js';
import { copyAs } from '../ops/core.js';
import { Tensor } from '../tensor/tensor.js';
import { KeelError, ValueError } from '../util/errors.js';
import { allow, checkOptions, showValue } from '../util/options.js';
import { guardHostDraws } from '../util/random.js';
import { optimize } from './passes.js';
import { CompileError, Tracer } from './trace.js';

export { CompileError } from './trace.js';

let byDefault = true;

/**
 * Whether training and evaluation (`fit`, `TrainStep`, `Evaluator`) run compiled steps when not
 * told otherwise: true, unless switched off here — as `keel --eager` and `KEEL_EAGER=1` do.
 */
export function compiledByDefault(): boolean {
  return byDefault;
}

/** Sets the default of `compiledByDefault` (false: eager steps everywhere not told otherwise). */
export function setCompiledByDefault(on: boolean): void {
  byDefault = on;
}

/** What a compiled function may return: a tensor, a list or a record of tensors, or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a step function that returns nothing is compiled too.
export type Outputs = Tensor | readonly Tensor[] | { readonly [name: string]: Tensor } | undefined | void;

/** Options of `compile`. */
export interface CompileOptions {
  /** When `fn` cannot be compiled: 'throw' a CompileError (default) or run it 'eager'ly from then on. */
  fallback?: 'throw' | 'eager';
  /** Told why, once, when falling back to eager execution. */
  onFallback?: (reason: string) => void;
  /** Plans kept, one per signature (default 8); the least recently used is dropped beyond. */
  cacheSize?: number;
  /** Fuse kernels (default true; false keeps the traced kernels one to one, for debugging). */
  fuse?: boolean;
  /** More of the signature: e.g. `() => model.training`, so a mode change traces a new plan. */
  key?: () => unknown;
}

// Made once: a zod object schema compiles its parser on first use, ~1–4 ms of a cold process.
const CompileOptionsSchema = z.object({
  fallback: allow.oneOf(['throw', 'eager']).optional(),
  onFallback: allow.fn('a function (reason) => void').optional(),
  cacheSize: allow.positiveInt().optional(),
  fuse: allow.boolean().optional(),
  key: allow.fn('a function () => value (more of the signature)').optional(),
});

/** A compiled function (see `compile`). */
export interface CompiledFunction<A extends Tensor[], R extends Outputs> {
  (...args: A): R;
  /** Plans traced and kept. */
  readonly plans: number;
  /** Why calls run eagerly (with `fallback: 'eager'`), or null while they run as plans. */
  readonly eagerReason: string | null;
  /** The kernel ops of the most recent plan (after fusion), by name — to see what a step runs. */
  readonly lastPlanOps: readonly string[];
  /** Drops every plan and its memory; the next call traces again. */
  dispose(): void;
}

/** A traced signature: the runner and how to make the call's results from it. */
interface Entry {
  readonly plan: Plan;
  readonly runner: PlanRunner;
  /** The returned tensors' views and dtypes, and how to rebuild the returned value. */
  readonly outputs: readonly { view: PlanView; dtype: Tensor['dtype'] }[];
  readonly rebuild: (ts: Tensor[]) => Outputs;
  /** Leaves whose gradient the step sets, with the index of that gradient among the outputs. */
  readonly leaves: readonly { leaf: Tensor; output: number | null }[];
  /** Taps recorded while tracing (autograd/taps.ts), each with its tensor's index among the outputs. */
  readonly taps: readonly { fn: TapFn; output: number }[];
  /** Over a stable runner's storages, the output tensors and the returned value, made once. */
  stable: { tensors: Tensor[]; value: Outputs } | null;
}

/** Flattens a returned value into its tensors and a function that rebuilds it from others. */
function flatten(r: Outputs): { tensors: Tensor[]; rebuild: (ts: Tensor[]) => Outputs } {
  if (r === undefined) return { tensors: [], rebuild: () => undefined };
  if (r instanceof Tensor) return { tensors: [r], rebuild: (ts) => ts[0] };
  if (Array.isArray(r)) {
    if (!r.every((t) => t instanceof Tensor))
      throw new ValueError(
        'compile: a compiled function returns a tensor, a list or a record of tensors, or nothing',
      );
    // The plan's outputs go on with the leaves' gradients: the list is its own length.
    const n = r.length;
    return { tensors: [...r], rebuild: (ts) => ts.slice(0, n) };
  }
  if (typeof r === 'object' && r !== null) {
    const keys = Object.keys(r);
    const values = keys.map((k) => (r as Record<string, unknown>)[k]);
    if (!values.every((t) => t instanceof Tensor))
      throw new ValueError(
        'compile: a compiled function returns a tensor, a list or a record of tensors, or nothing',
      );
    return {
      tensors: values as Tensor[],
      rebuild: (ts) => Object.fromEntries(keys.map((k, i) => [k, ts[i]])),
    };
  }
  throw new ValueError(
    'compile: a compiled function returns a tensor, a list or a record of tensors, or nothing',
  );
}

/**
 * Compiles `fn` (see the file's header): the first call per signature traces it, later calls
 * replay the plan. Arguments must be tensors.
 *
 * @example
 * const step = compile((x, y) => {
 *   opt.zeroGrad();
 *   const loss = nn.F.crossEntropy(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 *   return loss;
 * });
 * for (const [x, y] of loader) step(x, y);
 */
export function compile<A extends Tensor[], R extends Outputs>(
  fn: (...args: A) => R,
  opts: CompileOptions = {},
): CompiledFunction<A, R> {
  checkOptions('compile', CompileOptionsSchema, opts);
  if (typeof fn !== 'function') throw new ValueError(`compile: fn must be a function, got ${showValue(fn)}`);
  const cacheSize = opts.cacheSize ?? 8;
  if (!Number.isInteger(cacheSize) || cacheSize < 1)
    throw new ValueError(`compile: cacheSize must be a positive integer, got ${opts.cacheSize}`);
  const fallback = opts.fallback ?? 'throw';
  if (fallback !== 'throw' && fallback !== 'eager')
    throw new ValueError(`compile: fallback must be 'throw' or 'eager', got '${String(fallback)}'`);
  const cache = new Map<string, Entry>();
  let eagerReason: string | null = null;
  let lastPlanOps: string[] = [];

  // The most recently used entry and its signature's parts: a call with the same signature again
  // (every step but a new shape's) replays it without building the key.
  let last: { entry: Entry; key: string; sig: Signature } | null = null;

  const call = (...args: A): R => {
    if (eagerReason !== null) return fn(...args);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!(a instanceof Tensor))
        throw new ValueError(
          `compile: argument ${i} must be a Tensor, got ${a === null ? 'null' : typeof a}`,
        );
    }
    const views = inputViews(args);
    const extra = opts.key ? JSON.stringify(opts.key()) : '';
    if (last && sameSignature(last.sig, args, extra) && cache.get(last.key) === last.entry)
      return replay(last.entry, views) as R;
    const sig = signatureOf(args, extra);
    const key = keyOf(sig);
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      last = { entry: hit, key, sig };
      return replay(hit, views) as R;
    }
    let traced: { entry: Entry; result: R };
    try {
      traced = trace(fn, args, views, opts.fuse ?? true);
    } catch (e) {
      if (!(e instanceof CompileError) || fallback === 'throw' || e.partial) throw e;
      eagerReason = e.message;
      opts.onFallback?.(e.message);
      return fn(...args);
    }
    cache.set(key, traced.entry);
    last = { entry: traced.entry, key, sig };
    lastPlanOps = traced.entry.plan.ops.map((o) => (o.op === 'host' ? 'host' : o.op));
    if (cache.size > cacheSize) {
      const oldest = cache.keys().next().value as string;
      cache.get(oldest)?.runner.dispose();
      cache.delete(oldest);
    }
    return traced.result;
  };
  Object.defineProperties(call, {
    plans: { get: () => cache.size },
    eagerReason: { get: () => eagerReason },
    lastPlanOps: { get: () => lastPlanOps },
  });
  (call as unknown as { dispose: () => void }).dispose = () => {
    for (const e of cache.values()) e.runner.dispose();
    cache.clear();
    last = null;
  };
  return call as unknown as CompiledFunction<A, R>;
}

/** Contiguous views of the arguments, each over a storage of its own (copies where not). */
function inputViews(args: readonly Tensor[]): View[] {
  const views: View[] = [];
  for (const a of args) {
    let shared = false;
    for (const v of views) if (v.storage === a.storage) shared = true;
    views.push(a.isContiguous() && !shared ? a : copyAs(a.detach()));
  }
  return views;
}

/** What selects a plan: the backend, the grad mode, each argument's dtype and shape, the `key` option's value. */
interface Signature {
  readonly backend: string;
  readonly grad: boolean;
  readonly args: readonly { dtype: string; shape: readonly number[] }[];
  readonly extra: string;
}

function signatureOf(args: readonly Tensor[], extra: string): Signature {
  return {
    backend: backend().name,
    grad: isGradEnabled(),
    args: args.map((a) => ({ dtype: a.dtype, shape: [...a.shape] })),
    extra,
  };
}

/** The cache's key of a signature. */
function keyOf(s: Signature): string {
  const parts = s.args.map((a) => `${a.dtype}[${a.shape.join(',')}]`);
  return `${s.backend}|${s.grad ? 'grad' : 'nograd'}|${parts.join(';')}|${s.extra}`;
}

/** Whether a call's arguments (and `key` value) have signature `s`, compared without a key string. */
function sameSignature(s: Signature, args: readonly Tensor[], extra: string): boolean {
  if (s.args.length !== args.length || s.extra !== extra || s.grad !== isGradEnabled()) return false;
  if (s.backend !== backend().name) return false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const e = s.args[i];
    if (a.dtype !== e.dtype || a.shape.length !== e.shape.length) return false;
    for (let d = 0; d < e.shape.length; d++) if (a.shape[d] !== e.shape[d]) return false;
  }
  return true;
}

/** Runs `fn` under the tracer and makes the entry that replays it. */
function trace<A extends Tensor[], R extends Outputs>(
  fn: (...args: A) => R,
  args: A,
  views: readonly View[],
  fuse: boolean,
): { entry: Entry; result: R } {
  const target = backend();
  const tracer = new Tracer(target);
  views.forEach((v, i) => {
    tracer.input(i, v, args[i].dtype);
  });
  const leaves = new Set<Tensor>();
  const prevRecorder = setHostRecorder((f) => tracer.host(f));
  const prevGuard = guardDoors(() => {
    throw new CompileError(
      `compile: the function reads or writes a tensor's elements on the host while traced (item(), readSync(), toArray(), a host write) after ${tracer.ops.length} kernels; a plan cannot hold that — read values after the call returns, or keep them on the backend`,
      mutated(tracer),
    );
  });
  const prevDraws = guardHostDraws((what) => {
    throw new CompileError(
      `compile: the function draws random numbers on the host (Rng.${what}: rand, randn, randint, randperm or a layer drawing through them) while traced; a plan would replay the same numbers at every call — draw on the backend (sampleUniform, sampleNormal, dropout), or draw outside the compiled function and pass the tensor in`,
      mutated(tracer),
    );
  });
  const prevLeaves = observeLeafGrads((leaf) => leaves.add(leaf));
  const tapped: { t: Tensor; fn: TapFn }[] = [];
  const prevTaps = recordTaps((t, fn) => void tapped.push({ t, fn }));
  const prevPaused = pauseRecycling(true);
  let result: R;
  try {
    result = whileTracing(() => withBackend(tracer, () => fn(...(views as unknown as A))));
  } catch (e) {
    tracer.restoreGenerators();
    if (e instanceof NotTraceableError) throw new CompileError(`compile: ${e.message}`, mutated(tracer));
    throw e;
  } finally {
    setHostRecorder(prevRecorder);
    guardDoors(prevGuard);
    guardHostDraws(prevDraws);
    observeLeafGrads(prevLeaves);
    recordTaps(prevTaps);
    pauseRecycling(prevPaused);
  }
  const { tensors, rebuild } = flatten(result);
  const leafList = [...leaves];
  const outputs = [
    ...tensors,
    ...leafList.flatMap((l) => (l.grad ? [l.grad] : [])),
    ...tapped.map((p) => p.t),
  ].map((t) => ({
    view: tracer.view(t),
    dtype: t.dtype,
  }));
  let next = tensors.length;
  const leafOutputs = leafList.map((leaf) => ({ leaf, output: leaf.grad ? next++ : null }));
  const taps = tapped.map(({ fn }) => ({ fn, output: next++ }));
  const plan = optimize(
    { buffers: tracer.buffers, ops: tracer.ops, outputs: outputs.map((o) => o.view) },
    { fuse },
  );
  let runner: PlanRunner;
  try {
    runner = target.prepare?.(plan) ?? replayRunner(target, plan);
  } catch (e) {
    throw e instanceof KeelError ? new CompileError(`compile: ${e.message}`, true) : e;
  }
  // The plan's outputs, renumbered by the passes, with the traced tensors' dtypes.
  const planOutputs = plan.outputs.map((view, i) => ({ view, dtype: outputs[i].dtype }));
  const entry: Entry = {
    plan,
    runner,
    outputs: planOutputs,
    rebuild,
    leaves: leafOutputs,
    taps,
    stable: null,
  };
  // The traced call's own values went through the eager kernels: its taps see them now.
  for (const { t, fn } of tapped) fn(t.detach());
  return { entry, result: rebuild(tensors.map((t) => t.detach())) as R };
}

/** Whether the trace so far changed state outside the plan (a host step, an in-place write). */
function mutated(tracer: Tracer): boolean {
  return tracer.ops.some((o) => o.op === 'host' || writesExternal(tracer, o));
}

/** Whether a recorded op writes into a storage from outside the plan (a parameter, state). */
function writesExternal(tracer: Tracer, o: Tracer['ops'][number]): boolean {
  const dst =
    o.op === 'axpy'
      ? o.y.buffer
      : o.op === 'optimizerStep'
        ? o.w.buffer
        : o.op === 'copyInto'
          ? o.dst.buffer
          : -1;
  return dst >= 0 && tracer.buffers[dst].kind === 'external';
}

/** Replays an entry and makes the call's results (and the leaves' gradients). */
function replay(e: Entry, views: readonly View[]): Outputs {
  e.runner.run(views);
  let made = e.stable;
  if (!made) {
    const tensors = e.outputs.map(({ view, dtype }) => {
      const v = e.runner.view(view);
      return new Tensor(v.storage, v.shape, dtype, v.strides, v.offset);
    });
    made = { tensors, value: e.rebuild(tensors) };
    if (e.runner.stable) e.stable = made;
  }
  const ts = made.tensors;
  for (const { leaf, output } of e.leaves) leaf.grad = output === null ? null : ts[output];
  for (const { fn, output } of e.taps) fn(ts[output]);
  return made.value;
}
