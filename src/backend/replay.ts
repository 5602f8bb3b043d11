/**
 * The plan runner every backend has: replays a plan's ops through the backend's own eager kernels,
 * in order, each output a new storage as in eager mode (so nothing is planned and nothing is
 * stable), fused ops through their composites (fused.ts). What it saves over eager execution is
 * everything above the kernels: ops, autograd, graph objects. Backends with an arena runner of
 * their own (the CPU backends) use this one as the reference their runner is tested against.
 */

import { KeelError } from '../util/errors.js';
import { runFused } from './fused.js';
import type { Plan, PlanRunner, PlanView } from './plan.js';
import type { Backend, Storage, View } from './types.js';

/** A runner that calls `be`'s kernels for each op of `plan`. */
export function replayRunner(be: Backend, plan: Plan): PlanRunner {
  const current: (Storage | null)[] = plan.buffers.map((b) => (b.kind === 'external' ? b.storage : null));
  const base = new Array<number>(plan.buffers.length).fill(0);
  const inputs = plan.buffers.filter((b) => b.kind === 'input');
  const view = (v: PlanView): View => {
    const storage = current[v.buffer];
    if (!storage) throw new KeelError(`replay: buffer ${v.buffer} is read before it is written`);
    return { storage, shape: v.shape, strides: v.strides, offset: v.offset + base[v.buffer] };
  };
  // A kernel's result for a buffer from outside the plan (made there by copy elision) is written
  // into that storage; any other buffer is the result's storage itself.
  const define = (buffer: number, s: Storage) => {
    const b = plan.buffers[buffer];
    if (b.kind !== 'external') {
      current[buffer] = s;
      return;
    }
    const shape = [b.length];
    be.copyInto(
      { storage: b.storage, shape, strides: [1], offset: 0 },
      { storage: s, shape, strides: [1], offset: 0 },
    );
  };
  return {
    stable: false,
    run(args: readonly View[]) {
      for (const b of inputs) {
        if (b.kind !== 'input') continue;
        current[b.id] = args[b.input].storage;
        base[b.id] = args[b.input].offset;
      }
      for (const o of plan.ops) {
        switch (o.op) {
          case 'host':
            o.fn();
            break;
          case 'unary':
            define(o.out, be.unary(o.kind, view(o.x), o.dtype));
            break;
          case 'binary':
            define(o.out, be.binary(o.kind, view(o.a), view(o.b), o.shape, o.dtype));
            break;
          case 'where':
            define(o.out, be.where(view(o.cond), view(o.a), view(o.b), o.shape, o.dtype));
            break;
          case 'reduce':
            define(o.out, be.reduce(o.kind, view(o.x), o.axes, o.dtype));
            break;
          case 'argReduce':
            define(o.out, be.argReduce(o.kind, view(o.x), o.axis));
            break;
          case 'matmul':
            define(
              o.out,
              be.matmul(view(o.a), view(o.b), o.shape, o.dtype, o.bias ? view(o.bias) : undefined),
            );
            break;
          case 'gather':
          case 'indexSelect':
            define(o.out, be[o.op](view(o.x), o.axis, view(o.index), o.dtype));
            break;
          case 'scatterAdd':
          case 'indexAdd':
            define(o.out, be[o.op](o.shape, o.axis, view(o.index), view(o.src), o.dtype));
            break;
          case 'copyInto':
            be.copyInto(view(o.dst), view(o.src));
            break;
          case 'dropout': {
            const [out, mask] = be.dropout(view(o.x), o.p, o.scale, o.rng);
            define(o.out, out);
            define(o.mask, mask);
            break;
          }
          case 'random':
            define(o.out, be.random(o.kind, o.shape, o.dtype, o.a, o.b, o.rng));
            break;
          case 'axpy':
            be.axpy(view(o.y), o.alpha, view(o.x));
            break;
          case 'optimizerStep':
            be.optimizerStep(o.family, view(o.w), view(o.g), o.state.map(view), o.h);
            break;
          case 'softmaxCrossEntropy': {
            const [loss, probs] = be.softmaxCrossEntropy(view(o.x), view(o.target), o.dtype);
            define(o.loss, loss);
            define(o.probs, probs);
            break;
          }
          case 'softmaxCrossEntropyGrad':
            define(
              o.out,
              be.softmaxCrossEntropyGrad(view(o.probs), view(o.target), view(o.g), o.factor, o.dtype),
            );
            break;
          default:
            runFused(be, o, view, define);
        }
      }
    },
    view,
    dispose() {
      current.fill(null);
    },
  };
}
