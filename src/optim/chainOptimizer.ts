/**
 * `ChainOptimizer`: an optimizer running a gradient transformation of your own (transforms.ts) over
 * the whole parameter list, on the host in float64. When, for every parameter with a gradient, the
 * transformation is u ← k·u with its group's options (a plain chain: k = −lr), each parameter is
 * updated by one in-place kernel, w ← w + k·g; otherwise the updates are computed from host copies of
 * the gradients, added by a kernel (w ← w + u), and the transformation's after-step runs (the
 * proximal L1 step). Reading gradients to the host means a compiled step cannot hold it: `compile`
 * runs steps with this optimizer eagerly, saying why.
 */
import { axpy_ } from '../ops/inplace.js';
import { fromHost } from '../tensor/create.js';
import { peekGrad, type Tensor } from '../tensor/tensor.js';
import {
  type BaseOptions,
  type GroupSpec,
  type LiveParam,
  Optimizer,
  type SavedParamState,
} from './optimizer.js';
import { checkOptimizerOptions } from './options.js';
import type { GradientTransform, GroupOptions, ParamContext, ParamState } from './transforms.js';

/** The options of a ChainOptimizer's groups: the base ones and any its transforms read. */
export type ChainOptions = BaseOptions & Omit<GroupOptions, keyof BaseOptions>;

/**
 * An optimizer running a transformation of your own, e.g.
 * `new ChainOptimizer(params, chain(clipByGlobalNorm(1), scaleByAdam(), addDecayedWeights({ weightDecay: 0.01 }), scaleByLearningRate()), { lr: 1e-3 })`.
 * Options (`lr`, …) are the groups' defaults; transforms read those they were not given.
 */
export class ChainOptimizer extends Optimizer<ChainOptions> {
  private readonly state = new Map<Tensor, ParamState>();

  constructor(
    params: readonly Tensor[] | readonly GroupSpec<ChainOptions>[],
    readonly transform: GradientTransform,
    opts: Partial<ChainOptions> = {},
  ) {
    checkOptimizerOptions('ChainOptimizer', params, opts);
    super(`ChainOptimizer(${transform.name})`, params, {
      lr: 1e-3,
      weightDecay: 0,
      penalty: 'l2',
      proximal: false,
      ...opts,
    });
  }

  protected update(live: readonly LiveParam<ChainOptions>[]): void {
    const states = live.map(({ p }) => {
      let s = this.state.get(p);
      if (!s) {
        s = { step: 0, buffers: {} };
        this.state.set(p, s);
      }
      s.step++;
      return s;
    });
    const options = (i: number): GroupOptions => live[i].group.options;
    const scales = live.map((_, i) => this.transform.scale?.(options(i)) ?? null);
    if (scales.every((k) => k !== null)) {
      for (const [i, { p }] of live.entries()) axpy_(p, scales[i] as number, peekGrad(p) as Tensor);
      return;
    }
    const contexts = (): ParamContext[] =>
      live.map(({ p, group, index }, i) => {
        let w: ArrayLike<number> | null = null;
        return {
          weights: () => (w ??= p.readSync()),
          state: states[i],
          options: options(i),
          group: group.name,
          index,
          shape: p.shape,
        };
      });
    // The update vectors are scratch state reused across steps (no allocation per step).
    const updates = live.map(({ p }, i) => {
      const s = states[i];
      let u = s.scratch;
      if (!u || u.length !== p.size) u = s.scratch = new Float64Array(p.size);
      u.set((peekGrad(p) as Tensor).readSync());
      return u;
    });
    this.transform.update(updates, contexts());
    live.forEach(({ p }, i) => {
      axpy_(p, 1, fromHost(updates[i], p.shape, 'float64'));
    });
    // After the step, with the new weights.
    this.transform.afterApply?.(contexts(), (i, values) => live[i].p.storage.write(live[i].p, values));
  }

  protected saveState(p: Tensor): SavedParamState | undefined {
    const s = this.state.get(p);
    if (!s) return undefined;
    const buffers: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(s.buffers)) buffers[k] = Array.from(v);
    return { step: s.step, buffers };
  }

  protected loadState(p: Tensor, saved: SavedParamState | undefined): void {
    if (!saved) {
      this.state.delete(p);
      return;
    }
    const buffers: Record<string, Float64Array> = {};
    for (const [k, v] of Object.entries(saved.buffers)) buffers[k] = Float64Array.from(v);
    this.state.set(p, { step: saved.step, buffers });
  }
}
