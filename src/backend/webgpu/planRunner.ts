/**
 * The webgpu backend's plan runner: a compiled step recorded as one compute pass. Preparing a plan
 * lays its temporaries and inputs out in one arena buffer by lifetime (planMemory.ts, offsets
 * aligned to 256 bytes), builds every op's kernel call once over arena places (the same builders the
 * eager kernels use; fused ops are the GEMM's epilogue, the fused relu backward and the fused
 * cross-entropy), and makes their pipelines, bind groups and parameter blocks once. A run then:
 * copies the inputs into the arena (commands, no host round trip), runs the plan's host steps in
 * op order in JavaScript and refreshes the per-run parameters as it goes (an optimizer's
 * hyper-parameters, dropout keys drawn from their generators in the order eager execution draws
 * them), writes those parameters at their place in the command order, and records every dispatch
 * into one compute pass of the device's pending command buffer — submitted at the next read, or at
 * the end of the JavaScript task (context.ts). Nothing is read back unless the caller reads.
 *
 * Storages the plan reads by reference that live on a CPU backend are uploaded once, when the plan
 * is prepared (tensors live where they were created: the plan does not see later host writes to
 * them); a plan that writes into one is left to the replay runner (prepare returns null and says
 * why), whose eager kernels then refuse with the reason.
 */
import { KeelError } from '../../util/errors.js';
import { sizeOf } from '../../util/shape.js';
import { arenaRunner } from '../arenaRunner.js';
import { stateNames } from '../optimizer.js';
import { opAccesses, type Plan, type PlanOp, type PlanRunner, type PlanView } from '../plan.js';
import { planArena } from '../planMemory.js';
import type { RandomState, View } from '../types.js';
import { type GpuContext, type KernelCall, PARAM_WORDS } from './context.js';
import { crossEntropyGradKernel, crossEntropyKernel, crossEntropyStepKernel } from './crossentropy.js';
import { axpyKernel, binaryKernel, copyKernel, dense, unaryKernel, whereKernel } from './elementwise.js';
import { reluBackwardKernel } from './fused.js';
import { Usage } from './gpu.js';
import { addKernel, pickKernel } from './indexing.js';
import { matmulKernel } from './matmul.js';
import { optimizerKernel } from './optimizer.js';
import { dropoutKernel, randomKernel } from './random.js';
import { argReduceKernel, reduceKernel } from './reduce.js';
import { type ArenaOwner, foreign, GpuStorage, type Place, toWords } from './storage.js';
import type { Operand } from './wgsl.js';

/** What each run does, in op order: a host step, or kernel calls (indices into the plan's calls). */
type Step = { host: () => void } | { calls: number[] };

const keyOf = (rng: RandomState) => (): [number, number] => {
  const k0 = rng.nextUint32();
  const k1 = rng.nextUint32();
  return [k0, k1];
};

/** Runs of each prepared plan and what they recorded, for tests and benchmarks. */
export const planStats = { runs: 0, dispatches: 0 };

/** Prepares `plan` on the GPU, or returns null (saying why to `refuse`) for the replay runner. */
export function prepareGpuPlan(
  plan: Plan,
  ctx: GpuContext,
  refuse: (why: string) => void,
): PlanRunner | null {
  const written = new Set<number>();
  for (const o of plan.ops) for (const w of opAccesses(o).writes) written.add(w);
  // 1. Storages read by reference: GPU storages in place; host ones uploaded once.
  const adopted: GpuStorage[] = [];
  /** Storages of other owners the plan writes in place: their host copies go stale at each run. */
  const writes: GpuStorage[] = [];
  const places: (Place | null)[] = plan.buffers.map(() => null);
  for (const b of plan.buffers) {
    if (b.kind !== 'external') continue;
    const s = b.storage;
    if (s instanceof GpuStorage && s.ctx === ctx) {
      places[b.id] = s.place();
      if (written.has(b.id)) writes.push(s);
      continue;
    }
    if (written.has(b.id)) {
      refuse(
        `the plan writes into a tensor of another backend (${s.constructor.name}); tensors live where they were created`,
      );
      return null;
    }
    const up = GpuStorage.create(ctx, s.dtype, s.length);
    ctx.write(up.buffer, 0, toWords(s.dtype, foreign(s)));
    adopted.push(up);
    places[b.id] = up.place();
  }
  // 2. One arena for the temporaries and inputs.
  // Every element is one 32-bit word on the GPU (bool and float64 included).
  const words: Plan = { ...plan, buffers: plan.buffers.map((b) => ({ ...b, dtype: 'float32' as const })) };
  const layout = planArena(words, 256);
  const max = Math.min(ctx.limits.maxBufferSize, ctx.limits.maxStorageBufferBindingSize);
  if (layout.bytes > max) {
    refuse(`its buffers need ${layout.bytes} bytes, more than one GPU buffer holds here (${max})`);
    return null;
  }
  const arena = ctx.device.createBuffer({
    size: Math.max(256, layout.bytes),
    usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST,
    label: 'keel plan arena',
  });
  const owner: ArenaOwner = { dead: false };
  const storages = plan.buffers.map((b) => {
    if (b.kind === 'external') return null;
    const base = (layout.offsets[b.id] ?? 0) / 4;
    places[b.id] = { buffer: arena, base };
    return new GpuStorage(ctx, arena, base, b.length, b.dtype, owner);
  });
  const operand = (v: PlanView): Operand => ({
    place: places[v.buffer] as Place,
    dtype: plan.buffers[v.buffer].dtype,
    shape: v.shape,
    strides: v.strides,
    offset: v.offset,
  });
  const out = (buffer: number, shape: readonly number[]): Operand =>
    dense({ place: places[buffer] as Place, dtype: plan.buffers[buffer].dtype }, shape);
  // 3. Every op's kernel calls, built once.
  const calls: KernelCall[] = [];
  const steps: Step[] = [];
  try {
    for (const o of plan.ops) {
      if (o.op === 'host') steps.push({ host: o.fn });
      else {
        const made = build(o, operand, out, ctx);
        steps.push({ calls: made.map((k) => calls.push(k) - 1) });
      }
    }
  } catch (e) {
    arena.destroy();
    if (!(e instanceof KeelError)) throw e;
    refuse(e.message);
    return null;
  }
  // 4. Pipelines, parameter blocks and bind groups, once.
  const pipelines = calls.map((k) => ctx.pipeline(k));
  const hostParams = new Uint32Array(Math.max(1, calls.length) * PARAM_WORDS);
  calls.forEach((k, q) => {
    hostParams.set(k.params, q * PARAM_WORDS);
  });
  const params = ctx.device.createBuffer({
    size: hostParams.byteLength,
    usage: Usage.UNIFORM | Usage.COPY_DST,
    label: 'keel plan params',
  });
  ctx.write(params, 0, hostParams);
  const groups = calls.map((k) => ctx.bindGroup(k.buffers, params, false));
  const dynamic = calls.map((k, q) => (k.refresh ? q : -1)).filter((q) => q >= 0);
  const lo = dynamic.length ? dynamic[0] * PARAM_WORDS : 0;
  const hi = dynamic.length ? (dynamic[dynamic.length - 1] + 1) * PARAM_WORDS : 0;
  return arenaRunner(plan, {
    start() {
      ctx.check();
      for (const s of writes) s.touched();
    },
    copyIn(b, src) {
      const s = src.storage;
      const dst = (layout.offsets[b.id] ?? 0) as number;
      const bytes = b.length * 4;
      if (s instanceof GpuStorage && s.ctx === ctx) {
        const p = s.place();
        ctx.copy(p.buffer, (p.base + src.offset) * 4, arena, dst, bytes);
      } else {
        const n = b.length;
        ctx.write(arena, dst, toWords(b.dtype, foreign(s).subarray(src.offset, src.offset + n)));
      }
    },
    steps() {
      for (const st of steps) {
        if ('host' in st) st.host();
        else
          for (const q of st.calls) {
            const k = calls[q];
            if (k.refresh) k.refresh(hostParams.subarray(q * PARAM_WORDS, (q + 1) * PARAM_WORDS));
          }
      }
      if (hi > lo) ctx.write(params, lo * 4, hostParams.subarray(lo, hi));
      const pass = ctx.openPass();
      for (let q = 0; q < calls.length; q++) {
        const g = calls[q].grid;
        pass.setPipeline(pipelines[q]);
        pass.setBindGroup(0, groups[q], [q * PARAM_WORDS * 4]);
        pass.dispatchWorkgroups(g[0], g[1], g[2]);
      }
      planStats.runs++;
      planStats.dispatches += calls.length;
      ctx.recorded(calls.length);
    },
    view(v: PlanView): View {
      const b = plan.buffers[v.buffer];
      const storage = b.kind === 'external' ? b.storage : (storages[v.buffer] as GpuStorage);
      return { storage, shape: v.shape, strides: v.strides, offset: v.offset };
    },
    release() {
      owner.dead = true;
      arena.destroy();
      params.destroy();
      for (const s of adopted) s.release();
    },
  });
}

/** The kernel calls of one op over arena places. */
function build(
  o: Exclude<PlanOp, { op: 'host' }>,
  v: (p: PlanView) => Operand,
  out: (buffer: number, shape: readonly number[]) => Operand,
  ctx: GpuContext,
): KernelCall[] {
  const err = ctx.errorBuffer;
  switch (o.op) {
    case 'unary':
      return [unaryKernel(o.kind, v(o.x), out(o.out, o.x.shape))];
    case 'binary':
      return [binaryKernel(o.kind, v(o.a), v(o.b), out(o.out, o.shape))];
    case 'where':
      return [whereKernel(v(o.cond), v(o.a), v(o.b), out(o.out, o.shape))];
    case 'reduce':
      return [
        reduceKernel(
          o.kind,
          v(o.x),
          o.axes,
          out(
            o.out,
            o.x.shape.filter((_, d) => !o.axes.includes(d)),
          ),
        ),
      ];
    case 'argReduce':
      return [
        argReduceKernel(
          o.kind,
          v(o.x),
          o.axis,
          out(
            o.out,
            o.x.shape.filter((_, d) => d !== o.axis),
          ),
        ),
      ];
    case 'matmul':
      return [matmulKernel(v(o.a), v(o.b), out(o.out, o.shape), o.bias ? { bias: v(o.bias) } : {})];
    case 'gather':
      return [pickKernel('gather', v(o.x), o.axis, v(o.index), out(o.out, o.index.shape), err)];
    case 'indexSelect': {
      const shape = o.x.shape.map((d, i) => (i === o.axis ? (o.index.shape[0] ?? 1) : d));
      return [pickKernel('indexSelect', v(o.x), o.axis, v(o.index), out(o.out, shape), err)];
    }
    case 'scatterAdd':
    case 'indexAdd':
      return [addKernel(o.op, o.axis, v(o.index), v(o.src), out(o.out, o.shape), err)];
    case 'copyInto':
      return [copyKernel(v(o.dst), v(o.src))];
    case 'dropout':
      return [
        dropoutKernel(v(o.x), o.p, o.scale, out(o.out, o.x.shape), out(o.mask, o.x.shape), keyOf(o.rng)),
      ];
    case 'random':
      return [randomKernel(o.kind, out(o.out, o.shape), o.a, o.b, keyOf(o.rng))];
    case 'axpy':
      return [axpyKernel(v(o.y), o.alpha, v(o.x))];
    case 'optimizerStep': {
      const names = stateNames(o.family, o.h);
      if (names.length !== o.state.length)
        throw new KeelError(
          `optimizerStep(${o.family}) takes ${names.length} state buffers, got ${o.state.length}`,
        );
      return [optimizerKernel(o.family, v(o.w), v(o.g), o.state.map(v), names, o.h)];
    }
    case 'softmaxCrossEntropy': {
      const [n, c] = o.x.shape;
      return [crossEntropyKernel(v(o.x), v(o.target), out(o.loss, [n]), out(o.probs, [n, c]), err)];
    }
    case 'softmaxCrossEntropyGrad': {
      const n = o.target.shape[0];
      const pv = v(o.probs);
      const c = n > 0 ? sizeOf(pv.shape) / n : 0;
      const probs = pv.shape.length === 2 ? pv : { ...pv, shape: [n, c], strides: [c, 1] };
      return [crossEntropyGradKernel(probs, v(o.target), v(o.g), o.factor, out(o.out, [n, c]), err)];
    }
    case 'linearAct': {
      const d = o.dropout;
      return [
        matmulKernel(v(o.x), v(o.w), out(o.out, o.shape), {
          bias: o.bias ? v(o.bias) : undefined,
          relu: o.act === 'relu',
          hidden: o.hidden !== undefined ? out(o.hidden, o.shape) : undefined,
          dropout: d ? { p: d.p, scale: d.scale, mask: out(d.mask, o.shape), key: keyOf(d.rng) } : undefined,
        }),
      ];
    }
    case 'reluBackward': {
      const shape = o.h.shape;
      return [
        reluBackwardKernel(
          v(o.g),
          v(o.h),
          o.mask ? v(o.mask) : undefined,
          out(o.out, shape),
          o.biasGrad !== undefined ? out(o.biasGrad, shape.slice(1)) : undefined,
        ),
      ];
    }
    case 'crossEntropyStep':
      return [
        crossEntropyStepKernel(
          v(o.x),
          v(o.target),
          v(o.g),
          o.reduction,
          out(o.loss, []),
          out(o.dx, o.x.shape),
          err,
        ),
      ];
    case 'gatherPixels': {
      const shape = [o.index.shape[0] ?? 1, ...o.x.shape.slice(1)];
      return [pickKernel('indexSelect', v(o.x), 0, v(o.index), out(o.out, shape), err, o.divisor)];
    }
    default:
      return o satisfies never;
  }
}
