/**
 * The CPU backends' plan runner: a plan bound once to one arena in the wasm kernels' memory.
 * Preparing a plan (1) moves every storage it reads by reference — parameters, optimizer state,
 * data sets, constants — into that memory (`HostStorage.relocate`: their tensors follow), (2) gives
 * each buffer it makes an offset in one arena region by lifetime (planMemory.ts), and (3) turns each
 * op into a call bound to those byte addresses: matrix products by BLAS (native) or the wasm GEMM on
 * the operands in place, element-wise kernels, dropout, the optimizer and the fused kernels in wasm,
 * cross-entropy's forward and backward as one wasm pass (fdlibm's exp and log: Math's bits), the
 * bias gradient's column sums, the batch gather, and the accuracy count's four kernels as one pass
 * (countCorrect.ts), all in wasm. A run then copies its inputs in
 * and makes those calls: no storage, tensor or ArrayBuffer is allocated. Ops without an in-place
 * kernel here (rare in training steps: batched products, reductions other than the bias
 * gradient's, comparisons) run through the backend's eager kernels and their result is copied in.
 * Every op gives the bits the eager kernels give (the tests compare compiled and eager runs).
 */
import { bytesPerElement } from '../../util/dtype.js';
import { ValueError } from '../../util/errors.js';
import { dropThreshold } from '../../util/random.js';
import { isRowMajor as contiguous, sizeOf } from '../../util/shape.js';
import { arenaRunner } from '../arenaRunner.js';
import type { FusedOp } from '../fused.js';
import { runFused } from '../fused.js';
import { HostStorage, type HostView, hostArray, MemoryRegion } from '../host.js';
import { softmaxCrossEntropyGradInto, softmaxCrossEntropyInto } from '../js/crossentropy.js';
import { random as jsRandom } from '../js/dropout.js';
import { binary as jsBinary, unary as jsUnary, where as jsWhere } from '../js/elementwise.js';
import { argReduce as jsArgReduce, reduce as jsReduce, rowSum } from '../js/reduce.js';
import { type Blas, blasLayout as layout } from '../native/index.js';
import { H_LENGTH } from '../optimizer.js';
import type { KernelOp, Plan, PlanOp, PlanRunner, PlanView } from '../plan.js';
import { planArena } from '../planMemory.js';
import { repeatRow } from '../repeatRow.js';
import type { Backend, Storage, View } from '../types.js';
import type { Arena } from './arena.js';
import { type CountChain, countChains } from './countCorrect.js';
import { BINARY, FAMILY, leadingColumns, plan2, trailingRows, UNARY } from './elementwise.js';
import type { WasmGemm } from './gemm.js';
import type { WasmHeap } from './heap.js';
import type { KernelExports } from './module.js';

/** What a CPU backend gives its plan runner. */
export interface CpuPlanEnv {
  readonly ex: KernelExports;
  readonly heap: WasmHeap;
  readonly arena: Arena;
  readonly gemm: WasmGemm;
  /** The backend whose eager kernels run what has no in-place kernel here. */
  readonly fallback: Backend;
  /** The native backend's BLAS, or null: products on the wasm GEMM. */
  readonly blas: {
    readonly lib: Blas;
    readonly threadsFor: (work: number) => void;
    readonly tinyWork: number;
  } | null;
}

/** Typed views of the whole memory, remade after it grew. */
class MemoryViews {
  private buffer: ArrayBufferLike | null = null;
  f32 = new Float32Array(0);
  f64 = new Float64Array(0);
  i32 = new Int32Array(0);
  u8 = new Uint8Array(0);
  constructor(private readonly memory: WebAssembly.Memory) {}
  /** Call before using the views: remakes them when the memory grew. */
  fresh(): this {
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.f32 = new Float32Array(b);
      this.f64 = new Float64Array(b);
      this.i32 = new Int32Array(b);
      this.u8 = new Uint8Array(b);
    }
    return this;
  }
}

/**
 * Parameters with at least this many elements update on the helper threads too (best-mlp's 784×1024
 * AdamW pass took 5.4 ms of a ~13 ms step on one thread; bench/NOTES.md), in blocks of
 * OPTIMIZER_BLOCK elements drawn from the helpers' shared counter.
 */
const SPLIT_OPTIMIZER_MIN = 1 << 18;
const OPTIMIZER_BLOCK = 1 << 14;

/** Milliseconds spent in each kind of op of the plans prepared while profiling was on. */
export type PlanProfile = Map<string, { ms: number; calls: number }>;

let profile: PlanProfile | null = null;

/**
 * Profiling of the plans prepared from now on (bench/, and `KEEL_PROFILE_PLANS=1` runs through
 * io/node/planProfile.ts): each op is timed by kind; null switches it off. Returns the profile
 * being filled.
 */
export function profilePlans(on: boolean): PlanProfile | null {
  profile = on ? new Map() : null;
  return profile;
}

function label(o: PlanOp): string {
  if (o.op === 'matmul' || o.op === 'linearAct') {
    const [m, n] = o.op === 'matmul' ? o.shape : o.shape;
    const k = o.op === 'matmul' ? o.a.shape[o.a.shape.length - 1] : o.x.shape[1];
    return `${o.op} ${m}×${k}×${n}`;
  }
  return o.op === 'unary' || o.op === 'binary' || o.op === 'reduce' ? `${o.op} ${o.kind}` : o.op;
}

function timed(p: PlanProfile, name: string, call: () => void): () => void {
  return () => {
    const t0 = performance.now();
    call();
    const e = p.get(name) ?? { ms: 0, calls: 0 };
    e.ms += performance.now() - t0;
    e.calls++;
    p.set(name, e);
  };
}

/** Prepares `plan` on a CPU backend, or returns null when it holds storages of another kind. */
export function prepareCpuPlan(plan: Plan, env: CpuPlanEnv): PlanRunner | null {
  const { heap } = env;
  const memory = heap.memory;
  for (const b of plan.buffers) if (b.kind === 'external' && !(b.storage instanceof HostStorage)) return null;
  // 1. What the plan reads by reference moves into the kernels' memory (once; later plans find it there).
  // Too big for this memory: ops reading it take the eager path.
  const inMemory = plan.buffers.map((b) => b.kind !== 'external' || heap.adopt(b.storage as HostStorage));
  // 2. One arena for the buffers the plan makes, plus per-op scratch after them.
  const layout = planArena(plan);
  let scratchBytes = 0;
  const scratchAt: number[] = plan.ops.map((o) => {
    const need = scratchOf(o, plan);
    if (need === 0) return -1;
    const at = layout.bytes + scratchBytes;
    scratchBytes += Math.ceil(need / 64) * 64;
    return at;
  });
  const total = Math.max(64, layout.bytes + scratchBytes);
  const region = arenaRegion(heap, total);
  const base = region.at;
  const storages: HostStorage[] = plan.buffers.map((b) => {
    if (b.kind === 'external') return b.storage as HostStorage;
    return HostStorage.inRegion(region, base + (layout.offsets[b.id] as number), b.dtype, b.length);
  });
  const addr = (b: number) => storages[b].byteOffset;
  const mv = new MemoryViews(memory);
  const view = (v: PlanView): View => ({
    storage: storages[v.buffer],
    shape: v.shape,
    strides: v.strides,
    offset: v.offset,
  });
  /** The byte address of a view's element 0 (its buffer in memory, 4-byte elements). */
  const at = (v: PlanView) => addr(v.buffer) + v.offset * bytesPerElement(plan.buffers[v.buffer].dtype);
  const inMem = (...vs: PlanView[]) => vs.every((v) => inMemory[v.buffer]);
  const f32 = (...vs: PlanView[]) => vs.every((v) => plan.buffers[v.buffer].dtype === 'float32');
  /** Copies a storage's elements into buffer `out` (the result of an eager kernel). */
  const into = (out: number, s: Storage) => {
    storages[out].array.set(hostArray(s));
  };

  // The accuracy count's four kernels as one pass (countCorrect.ts), where they form the chain.
  const counts = new Map([...countChains(plan)].filter(([, ch]) => inMem(ch.x, ch.target)));
  const counted = new Set([...counts.values()].flatMap((ch) => ch.ops.slice(0, 3)));
  const calls: (() => void)[] = plan.ops
    .map((o, i) => {
      const chain = counts.get(i);
      if (chain) return bindCount(chain, storages, env.ex);
      if (counted.has(i)) return () => {};
      return bind(o, i, {
        env,
        plan,
        view,
        at,
        inMem,
        f32,
        into,
        mv,
        storages,
        scratch: scratchAt[i] >= 0 ? base + scratchAt[i] : -1,
      });
    })
    .map((call, i) =>
      profile ? timed(profile, counts.has(i) ? 'countCorrect' : label(plan.ops[i]), call) : call,
    );
  return arenaRunner(plan, {
    copyIn(b, src) {
      const s = src.storage;
      const n = b.length;
      const dst = storages[b.id].array;
      if (s instanceof HostStorage && s.region?.memory === memory) {
        const bytes = n * bytesPerElement(b.dtype);
        const from = s.byteOffset + src.offset * bytesPerElement(b.dtype);
        mv.fresh().u8.copyWithin(addr(b.id), from, from + bytes);
      } else {
        const a = hostArray(s);
        dst.set(src.offset === 0 && a.length === n ? a : a.subarray(src.offset, src.offset + n));
      }
    },
    steps() {
      for (let i = 0; i < calls.length; i++) calls[i]();
    },
    view,
    release: () => region.dispose(),
  });
}

/**
 * A plan's arena: `bytes` of the heap as a region whose release captures only the heap and the
 * address. Made here, not inside `prepareCpuPlan`: a closure made there shares that function's
 * context, which holds the region itself (through the runner's own closures), and the finalizer's
 * held value would then keep the region alive for ever — every plan of every run leaked its arena
 * (7.7 MiB a trial in a sweep worker).
 */
function arenaRegion(heap: CpuPlanEnv['heap'], bytes: number): MemoryRegion {
  const at = heap.alloc(bytes);
  return new MemoryRegion(heap.memory, at, bytes, () => heap.release(at));
}

/** Bytes of per-op scratch an op needs in the arena (kept across runs). */
function scratchOf(o: PlanOp, plan: Plan): number {
  switch (o.op) {
    case 'optimizerStep':
      return 8 * H_LENGTH;
    case 'matmul': {
      // Room to make an operand broadcast from one element dense (see productAt).
      const [m, n] = o.shape.slice(-2);
      const k = o.a.shape[o.a.shape.length - 1];
      const bcast = (v: PlanView) => v.strides.every((s) => s === 0);
      return (bcast(o.a) ? Math.ceil((m * k * 4) / 64) * 64 : 0) + (bcast(o.b) ? k * n * 4 : 0);
    }
    case 'reluBackward':
      return o.biasGrad !== undefined ? 8 * o.h.shape[1] : 0;
    case 'reduce':
      return 8 * plan.buffers[o.out].length;
    case 'crossEntropyStep': {
      const [n, c] = o.x.shape;
      // Each row's softmax (float64) and loss (float32, as the eager kernel stores it).
      return 8 * n * c + 4 * n + 8;
    }
    default:
      void plan;
      return 0;
  }
}

interface BindContext {
  readonly env: CpuPlanEnv;
  readonly plan: Plan;
  readonly view: (v: PlanView) => View;
  readonly at: (v: PlanView) => number;
  readonly inMem: (...vs: PlanView[]) => boolean;
  readonly f32: (...vs: PlanView[]) => boolean;
  readonly into: (out: number, s: Storage) => void;
  readonly mv: MemoryViews;
  readonly storages: HostStorage[];
  /** Byte address of this op's scratch, or −1. */
  readonly scratch: number;
}

/**
 * A host view of a plan view (the js kernels compute on these), made once: each call refreshes
 * its array, which changes only when the memory grew.
 */
function hostOf(c: BindContext, v: PlanView): () => HostView {
  const s = c.storages[v.buffer];
  const h = { data: s.array, shape: v.shape, strides: v.strides, offset: v.offset };
  return () => {
    h.data = s.array;
    return h;
  };
}

/** One op bound to its addresses: a call for each run. */
function bind(o: PlanOp, i: number, c: BindContext): () => void {
  const { env, view, at, inMem, f32, into, mv } = c;
  const { ex } = env;
  const be = env.fallback;
  void i;
  switch (o.op) {
    case 'host':
      return o.fn;
    case 'unary': {
      const code = UNARY[o.kind];
      const p = plan2(o.x.shape, [o.x.strides]);
      if (code !== undefined && p && o.dtype === 'float32' && f32(o.x) && inMem(o.x)) {
        const [rs, cs] = p.strides[0];
        const x = at(o.x);
        const out = c.storages[o.out].byteOffset;
        return () => ex.unary(code, x, rs, cs, out, p.rows, p.cols);
      }
      if (inMem(o.x)) {
        const x = hostOf(c, o.x);
        const out = c.storages[o.out];
        return () => {
          jsUnary(o.kind, x(), o.dtype, out.array, 0);
        };
      }
      return () => into(o.out, be.unary(o.kind, view(o.x), o.dtype));
    }
    case 'binary': {
      const code = BINARY[o.kind];
      const p = plan2(o.shape, [o.a.strides, o.b.strides]);
      if (code !== undefined && p && o.dtype === 'float32' && f32(o.a, o.b) && inMem(o.a, o.b)) {
        const [ars, acs] = p.strides[0];
        const [brs, bcs] = p.strides[1];
        const a = at(o.a);
        const b = at(o.b);
        const out = c.storages[o.out].byteOffset;
        return () => ex.binary(code, a, ars, acs, b, brs, bcs, out, p.rows, p.cols);
      }
      if (inMem(o.a, o.b)) {
        const a = hostOf(c, o.a);
        const b = hostOf(c, o.b);
        const out = c.storages[o.out];
        return () => {
          jsBinary(o.kind, a(), b(), o.shape, o.dtype, out.array, 0);
        };
      }
      return () => into(o.out, be.binary(o.kind, view(o.a), view(o.b), o.shape, o.dtype));
    }
    case 'matmul': {
      const product = o.shape.length === 2 ? productAt(c, o.a, o.b, o.bias, o.out, o.shape, o.dtype) : null;
      if (product) return product;
      return () =>
        into(o.out, be.matmul(view(o.a), view(o.b), o.shape, o.dtype, o.bias ? view(o.bias) : undefined));
    }
    case 'dropout': {
      if (f32(o.x) && inMem(o.x) && contiguous(o.x)) {
        const n = sizeOf(o.x.shape);
        const x = at(o.x);
        const out = c.storages[o.out].byteOffset;
        const mask = c.storages[o.mask].byteOffset;
        const [t, all] = dropThreshold(o.p);
        return () => {
          const k0 = o.rng.nextUint32();
          const k1 = o.rng.nextUint32();
          ex.dropout(x, n, k0, k1, 0, t, all, o.scale, out, mask);
        };
      }
      return () => {
        const [out, mask] = be.dropout(view(o.x), o.p, o.scale, o.rng);
        into(o.out, out);
        into(o.mask, mask);
      };
    }
    case 'optimizerStep': {
      const views = [o.w, o.g, ...o.state];
      if (f32(...views) && inMem(...views) && views.every(contiguous) && o.state.length <= 3) {
        const n = sizeOf(o.w.shape);
        const w = at(o.w);
        const g = at(o.g);
        const s = o.state.map(at);
        const hAt = c.scratch;
        const family = FAMILY[o.family];
        const [s0, s1, s2] = [s[0] ?? 0, s[1] ?? 0, s[2] ?? 0];
        const pool = env.gemm.pool;
        // A large parameter updates in element blocks shared with the helper threads: each element's
        // update is independent, so the bits are the one pass's.
        const split = n >= SPLIT_OPTIMIZER_MIN && pool.threads > 1;
        const req = { family, w, g, s0, s1, s2, h: hAt, n, block: OPTIMIZER_BLOCK };
        const from = (p: number, i: number) => (p === 0 ? 0 : p + 4 * i);
        return () => {
          mv.fresh().f64.set(o.h, hAt >> 3);
          const helpers = split ? pool.ready() : [];
          if (!helpers.length) return ex.optimizerStep(family, w, g, s0, s1, s2, n, hAt);
          const d = pool.callOptimizer(helpers, req);
          for (let i0 = pool.takeRows(OPTIMIZER_BLOCK); i0 < n; i0 = pool.takeRows(OPTIMIZER_BLOCK)) {
            const count = Math.min(OPTIMIZER_BLOCK, n - i0);
            ex.optimizerStep(
              family,
              from(w, i0),
              from(g, i0),
              from(s0, i0),
              from(s1, i0),
              from(s2, i0),
              count,
              hAt,
            );
          }
          pool.join(d);
        };
      }
      return () => be.optimizerStep(o.family, view(o.w), view(o.g), o.state.map(view), o.h);
    }
    case 'copyInto': {
      // Same dtype, both contiguous (no broadcast): a move of bytes within the memory.
      const bt = c.plan.buffers;
      if (
        inMem(o.dst, o.src) &&
        bt[o.dst.buffer].dtype === bt[o.src.buffer].dtype &&
        contiguous(o.dst) &&
        contiguous({ ...o.src, shape: o.dst.shape })
      ) {
        const bytes = sizeOf(o.dst.shape) * bytesPerElement(bt[o.dst.buffer].dtype);
        const dst = at(o.dst);
        const src = at(o.src);
        return () => {
          mv.fresh().u8.copyWithin(dst, src, src + bytes);
        };
      }
      return () => be.copyInto(view(o.dst), view(o.src));
    }
    case 'reduce': {
      // Column sums of a contiguous float32 (bias gradients) in wasm, in the js order and precision.
      const columns =
        o.kind === 'sum' && contiguous(o.x) && sizeOf(o.x.shape) > 0
          ? leadingColumns(o.x.shape, o.axes)
          : null;
      if (columns && o.dtype === 'float32' && f32(o.x) && inMem(o.x) && c.scratch >= 0) {
        const x = at(o.x);
        const out = c.storages[o.out].byteOffset;
        const acc = c.scratch;
        const [rows, cols] = columns;
        return () => ex.columnSums(x, rows, cols, acc, out);
      }
      // Row sums over trailing axes of a contiguous float32 — a full sum (a loss) is one row: the
      // js backend's own row sum (same order, rounded once), without its general set-up per call.
      const rows =
        o.kind === 'sum' && contiguous(o.x) && sizeOf(o.x.shape) > 0 ? trailingRows(o.x.shape, o.axes) : null;
      if (rows && o.dtype === 'float32' && f32(o.x) && inMem(o.x)) {
        const [nr, cols] = rows;
        const x = at(o.x) >> 2;
        const out = c.storages[o.out];
        return () => {
          const f = mv.fresh().f32;
          const y = out.array;
          for (let r = 0; r < nr; r++) y[r] = rowSum(f, x + r * cols, cols);
        };
      }
      // The js backend's reduction (float64 sums, rounded once) into the arena, with scratch.
      if (inMem(o.x) && c.scratch >= 0) {
        const x = hostOf(c, o.x);
        const out = c.storages[o.out];
        const n = c.plan.buffers[o.out].length;
        const accAt = c.scratch;
        let acc: Float64Array | null = null;
        return () => {
          const f64 = mv.fresh().f64;
          if (!acc || acc.buffer !== f64.buffer) acc = new Float64Array(f64.buffer, accAt, n);
          jsReduce(o.kind, x(), o.axes, o.dtype, out.array, 0, acc);
        };
      }
      return () => into(o.out, be.reduce(o.kind, view(o.x), o.axes, o.dtype));
    }
    case 'argReduce': {
      if (inMem(o.x)) {
        const x = hostOf(c, o.x);
        const out = c.storages[o.out];
        return () => {
          jsArgReduce(o.kind, x(), o.axis, out.array as Int32Array, 0);
        };
      }
      return () => into(o.out, be.argReduce(o.kind, view(o.x), o.axis));
    }
    case 'where': {
      if (inMem(o.cond, o.a, o.b)) {
        const cond = hostOf(c, o.cond);
        const a = hostOf(c, o.a);
        const b = hostOf(c, o.b);
        const out = c.storages[o.out];
        return () => {
          jsWhere(cond(), a(), b(), o.shape, o.dtype, out.array, 0);
        };
      }
      return () => into(o.out, be.where(view(o.cond), view(o.a), view(o.b), o.shape, o.dtype));
    }
    case 'random': {
      // The js kernel's draws straight into the slot.
      const out = c.storages[o.out];
      return () => {
        jsRandom(o, out.array);
      };
    }
    case 'indexSelect': {
      const gather = gatherRows(c, o);
      if (gather) return gather;
      return () => into(o.out, be.indexSelect(view(o.x), o.axis, view(o.index), o.dtype));
    }
    case 'softmaxCrossEntropy': {
      // Rows' losses and softmax straight into their slots (the evaluation's loss).
      if (inMem(o.x, o.target)) {
        const x = hostOf(c, o.x);
        const target = hostOf(c, o.target);
        const loss = c.storages[o.loss];
        const probs = c.storages[o.probs];
        return () => {
          softmaxCrossEntropyInto(x(), target(), loss.array, probs.array as Float64Array);
        };
      }
      return eager(c, o);
    }
    case 'linearAct':
      return bindLinear(c, o);
    case 'reluBackward':
      return bindReluBackward(c, o);
    case 'crossEntropyStep':
      return bindCrossEntropy(c, o);
    case 'gatherPixels':
      return bindGatherPixels(c, o) ?? eager(c, o);
    default:
      return eager(c, o);
  }
}

/** An op through the fallback backend's eager kernels, results copied into the arena. */
function eager(c: BindContext, o: KernelOp | FusedOp): () => void {
  const be = c.env.fallback;
  const { view, into } = c;
  switch (o.op) {
    case 'gather':
      return () => into(o.out, be.gather(view(o.x), o.axis, view(o.index), o.dtype));
    case 'scatterAdd':
      return () => into(o.out, be.scatterAdd(o.shape, o.axis, view(o.index), view(o.src), o.dtype));
    case 'indexAdd':
      return () => into(o.out, be.indexAdd(o.shape, o.axis, view(o.index), view(o.src), o.dtype));
    case 'copyInto':
      return () => be.copyInto(view(o.dst), view(o.src));
    case 'axpy':
      return () => be.axpy(view(o.y), o.alpha, view(o.x));
    case 'softmaxCrossEntropy':
      return () => {
        const [loss, probs] = be.softmaxCrossEntropy(view(o.x), view(o.target), o.dtype);
        into(o.loss, loss);
        into(o.probs, probs);
      };
    case 'softmaxCrossEntropyGrad':
      return () =>
        into(o.out, be.softmaxCrossEntropyGrad(view(o.probs), view(o.target), view(o.g), o.factor, o.dtype));
    default:
      return () => runFused(be, o as FusedOp, view, (b, s) => into(b, s));
  }
}

/**
 * A 2-D float32 product C = A·B (+ bias) in place, as the eager kernel of this backend computes it
 * (BLAS with the bias starting each row above `tinyWork`, else the wasm GEMM), or null when an
 * operand is not in memory or not readable in place.
 */
function productAt(
  c: BindContext,
  av: PlanView,
  bv: PlanView,
  bias: PlanView | undefined,
  out: number,
  shape: readonly number[],
  dtype: string,
): (() => void) | null {
  const { env, at, inMem, f32, mv } = c;
  const vs = bias ? [av, bv, bias] : [av, bv];
  if (dtype !== 'float32' || !f32(...vs) || !inMem(...vs)) return null;
  if (bias && bias.strides[0] !== 1 && bias.shape[0] > 1) return null;
  const [m, n] = shape;
  const k = av.shape[1];
  let a = { at: at(av), rs: av.strides[0], cs: av.strides[1] };
  let b = { at: at(bv), rs: bv.strides[0], cs: bv.strides[1] };
  // An operand broadcast from one element (the gradient of a sum) is made dense in this op's
  // scratch first, as the eager kernels do.
  const fills: (() => void)[] = [];
  const densify = (o: { at: number; rs: number; cs: number }, rows: number, cols: number, at: number) => {
    fills.push(() => env.ex.fill32(at, rows * cols, mv.fresh().f32[o.at >> 2]));
    return { at, rs: cols, cs: 1 };
  };
  const aFill = a.rs === 0 && a.cs === 0 && m * k > 1;
  const bFill = b.rs === 0 && b.cs === 0 && k * n > 1;
  if ((aFill || bFill) && c.scratch < 0) return null;
  if (aFill) a = densify(a, m, k, c.scratch);
  if (bFill) b = densify(b, k, n, c.scratch + (aFill ? Math.ceil((m * k * 4) / 64) * 64 : 0));
  const cAt = c.storages[out].byteOffset;
  const biasAt = bias ? at(bias) : -1;
  const work = m * n * k;
  const blas = env.blas;
  const fill = () => {
    for (let i = 0; i < fills.length; i++) fills[i]();
  };
  if (!blas || work < blas.tinyWork) {
    return () => {
      fill();
      env.gemm.multiplyAt(a, b, cAt, { m, n, k }, biasAt);
    };
  }
  const la = layout(m, k, a.rs, a.cs);
  const lb = layout(k, n, b.rs, b.cs);
  if (!la || !lb) return null;
  let views: { buffer: ArrayBufferLike; A: Float32Array; B: Float32Array; C: Float32Array } | null = null;
  const spanA = m > 0 && k > 0 ? (m - 1) * a.rs + (k - 1) * a.cs + 1 : 0;
  const spanB = k > 0 && n > 0 ? (k - 1) * b.rs + (n - 1) * b.cs + 1 : 0;
  return () => {
    const buf = mv.fresh().f32.buffer;
    if (!views || views.buffer !== buf) {
      views = {
        buffer: buf,
        A: new Float32Array(buf, a.at, spanA),
        B: new Float32Array(buf, b.at, spanB),
        C: new Float32Array(buf, cAt, m * n),
      };
    }
    const f = mv.f32;
    if (biasAt >= 0) repeatRow(f, biasAt >> 2, cAt >> 2, m, n);
    if (k === 0) {
      if (biasAt < 0) views.C.fill(0);
      return;
    }
    blas.threadsFor(work);
    blas.lib.gemm(
      'float32',
      la.trans,
      lb.trans,
      m,
      n,
      k,
      1,
      views.A,
      la.ld,
      views.B,
      lb.ld,
      biasAt >= 0 ? 1 : 0,
      views.C,
      n,
    );
  };
}

/** Rows of a contiguous data set gathered by an int32 index, byte copies within the memory. */
function gatherRows(c: BindContext, o: Extract<KernelOp, { op: 'indexSelect' }>): (() => void) | null {
  if (o.axis !== 0 || c.plan.buffers[o.index.buffer].dtype !== 'int32') return null;
  const bytes = bytesPerElement(c.plan.buffers[o.x.buffer].dtype);
  return bindRows(c, o.x, o.index, o.out, (ex, x, cols, size, idx, is, count, out) =>
    ex.gatherRows(x, cols * bytes, size, idx, is, count, out),
  );
}

/** gatherPixels: the batch's rows of stored bytes made float32 / divisor in one wasm pass. */
function bindGatherPixels(c: BindContext, o: Extract<FusedOp, { op: 'gatherPixels' }>): (() => void) | null {
  return bindRows(c, o.x, o.index, o.out, (ex, x, cols, size, idx, is, count, out) =>
    ex.gatherPixels(x, cols, size, idx, is, count, out, o.divisor),
  );
}

/**
 * A row gather over the memory: rows `index` (int32, in the memory) of the contiguous `x` into
 * buffer `out` by `kernel` (gatherRows' contract: the position of the first bad index, or < 0),
 * a bad index refused as indexSelect refuses it; null when the operands are not in the memory.
 */
function bindRows(
  c: BindContext,
  xv: PlanView,
  index: PlanView,
  outBuffer: number,
  /** gatherRows' arguments, but the row's length in elements (not bytes) second. */
  kernel: (ex: KernelExports, ...args: Parameters<KernelExports['gatherRows']>) => number,
): (() => void) | null {
  const { at, inMem, mv } = c;
  if (!inMem(xv, index) || !contiguous(xv)) return null;
  const size = xv.shape[0];
  const cols = sizeOf(xv.shape) / Math.max(size, 1);
  const x = at(xv);
  const idx = at(index) >> 2;
  const is = index.strides[0] ?? 0;
  const count = index.shape[0] ?? 1;
  const out = c.storages[outBuffer].byteOffset;
  const { ex } = c.env;
  return () => {
    const bad = kernel(ex, x, cols, size, idx << 2, is, count, out);
    if (bad >= 0) {
      const r = mv.fresh().i32[idx + bad * is];
      throw new ValueError(
        `indexSelect: index ${r} is out of range for axis 0 of size ${size} (allowed 0..${size - 1})`,
      );
    }
  };
}

/** The accuracy count's chain as one pass over the logits (assembly/count.ts), its int32 result into the sum's slot. */
function bindCount(ch: CountChain, storages: HostStorage[], ex: KernelExports): () => void {
  const [rows, cols] = ch.x.shape;
  const x = storages[ch.x.buffer].byteOffset + 4 * ch.x.offset;
  const t = storages[ch.target.buffer].byteOffset + 4 * ch.target.offset;
  const ts = ch.target.strides[0] ?? 1;
  const out = storages[ch.out];
  return () => {
    out.array[0] = ex.countCorrect(x, rows, cols, t, ts);
  };
}

/** linearAct: the product (bias first, as eager), then relu and dropout in one wasm pass. */
function bindLinear(c: BindContext, o: Extract<FusedOp, { op: 'linearAct' }>): () => void {
  const { env, storages } = c;
  const target = o.hidden ?? o.out;
  const product = productAt(c, o.x, o.w, o.bias, target, o.shape, o.dtype);
  if (!product || o.act !== 'relu') return eager(c, o);
  const n = sizeOf(o.shape);
  const h = storages[target].byteOffset;
  const out = storages[o.out].byteOffset;
  const drop = o.dropout;
  if (!drop)
    return () => {
      product();
      env.ex.reluDropout(h, n, 1, 0, 0, 0, 0, 0, 1, h, h, 0);
    };
  const mask = storages[drop.mask].byteOffset;
  const [t, all] = dropThreshold(drop.p);
  return () => {
    product();
    const k0 = drop.rng.nextUint32();
    const k1 = drop.rng.nextUint32();
    env.ex.reluDropout(h, n, 1, 1, k0, k1, t, all, drop.scale, h, out, mask);
  };
}

/** reluBackward in one wasm pass, with the bias gradient's float64 column sums. */
function bindReluBackward(c: BindContext, o: Extract<FusedOp, { op: 'reluBackward' }>): () => void {
  const { env, at, inMem, f32, storages } = c;
  const vs = o.mask ? [o.g, o.h, o.mask] : [o.g, o.h];
  if (!f32(...vs) || !inMem(...vs) || !vs.every(contiguous) || o.h.shape.length !== 2) return eager(c, o);
  const [rows, cols] = o.h.shape;
  const g = at(o.g);
  const h = at(o.h);
  const mask = o.mask ? at(o.mask) : 0;
  const out = storages[o.out].byteOffset;
  const db = o.biasGrad !== undefined ? storages[o.biasGrad].byteOffset : 0;
  const acc = c.scratch;
  return () => env.ex.reluBackward(g, h, mask, rows, cols, out, db, acc);
}

/**
 * crossEntropyStep over the memory with the eager bits: each row's loss and softmax into scratch,
 * their sum as the eager reduction sums, the reduced loss, and the gradient into dx — in one wasm
 * pass (assembly/crossentropy.ts) for float32 logits and int32 classes, else with the js backend's
 * own row kernels.
 */
function bindCrossEntropy(c: BindContext, o: Extract<FusedOp, { op: 'crossEntropyStep' }>): () => void {
  const { inMem, mv, storages, view, plan, at, f32 } = c;
  if (!inMem(o.x, o.target, o.g) || plan.buffers[o.loss].dtype !== 'float32') return eager(c, o);
  const [n, cols] = o.x.shape;
  const probsAt = c.scratch;
  const rowsAt = probsAt + 8 * n * cols;
  const count = o.reduction === 'mean' ? Math.max(n, 1) : 1;
  const factor = o.reduction === 'mean' ? 1 / Math.max(n, 1) : 1;
  if (
    f32(o.x, o.g) &&
    plan.buffers[o.target.buffer].dtype === 'int32' &&
    plan.buffers[o.dx].dtype === 'float32'
  ) {
    // The same float64 arithmetic and fdlibm's exp and log (as Math's) in one wasm pass.
    const [rs, cs] = o.x.strides;
    const x = at(o.x);
    const target = at(o.target);
    const ts = o.target.strides[0] ?? 0;
    const g = at(o.g);
    const gs = o.g.strides[0] ?? 0;
    const loss = storages[o.loss].byteOffset;
    const dx = storages[o.dx].byteOffset;
    const { ex } = c.env;
    return () => {
      const bad = ex.crossEntropyStep(
        x,
        rs,
        cs,
        n,
        cols,
        target,
        ts,
        g,
        gs,
        factor,
        count,
        probsAt,
        rowsAt,
        loss,
        dx,
      );
      if (bad >= 0) {
        const t = mv.fresh().i32[(target >> 2) + bad * ts];
        throw new ValueError(
          `crossEntropy: target ${t} of sample ${bad} is out of range for ${cols} classes (allowed 0..${cols - 1})`,
        );
      }
    };
  }
  const x = view(o.x);
  const target = view(o.target);
  const g = view(o.g);
  let arrays: { buffer: ArrayBufferLike; probs: Float64Array; rows: Float32Array } | null = null;
  return () => {
    const buf = mv.fresh().f32.buffer;
    if (!arrays || arrays.buffer !== buf)
      arrays = {
        buffer: buf,
        probs: new Float64Array(buf, probsAt, n * cols),
        rows: new Float32Array(buf, rowsAt, n),
      };
    const hx = {
      data: (x.storage as HostStorage).array,
      shape: x.shape,
      strides: x.strides,
      offset: x.offset,
    };
    const ht = {
      data: (target.storage as HostStorage).array,
      shape: target.shape,
      strides: target.strides,
      offset: target.offset,
    };
    softmaxCrossEntropyInto(hx, ht, arrays.rows, arrays.probs);
    storages[o.loss].array[0] = rowSum(arrays.rows, 0, n) / count;
    const hg = {
      data: (g.storage as HostStorage).array,
      shape: g.shape,
      strides: g.strides,
      offset: g.offset,
    };
    softmaxCrossEntropyGradInto(arrays.probs, ht, hg, factor, storages[o.dx].array, 0);
  };
}
