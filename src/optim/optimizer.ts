/**
 * The optimizer: typed parameter groups with per-group hyper-parameters, per-parameter state, and
 * one gradient transformation (transforms.ts) over the whole parameter list whose updates are added
 * to the weights in place. The built-in optimizers (optimizers.ts) are such transformations with
 * PyTorch's defaults; `ChainOptimizer` runs any chain a user writes. Validates at the boundary with
 * messages naming the value. Works on tensors only (never imports nn), so it tests without modules.
 */

import { backend } from '../backend/registry.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { KeelError, ValueError } from '../util/errors.js';
import type { DecayOptions, GradientTransform, ParamContext, ParamState } from './transforms.js';

/** Options every optimizer has: the learning rate and weight decay. */
export interface BaseOptions extends DecayOptions {
  lr: number;
}

/** A parameter group as given by the user: its tensors and any options that differ from the defaults. */
export type GroupSpec<O> = { params: readonly Tensor[]; name?: string } & Partial<O>;

/** A resolved parameter group. Schedulers change `options.lr`. */
export interface ParamGroup<O> {
  params: Tensor[];
  name: string;
  options: O;
  /** The learning rate the group started with (schedulers scale from it). */
  initialLr: number;
}

/** Serializable optimizer state (JSON-safe). */
export interface OptimizerState<O> {
  groups: { name: string; paramCount: number; options: O; initialLr: number }[];
  state: Record<number, { step: number; buffers: Record<string, number[]> }>;
}

/** Thrown for misuse of an optimizer (a parameter in two groups, a non-leaf parameter, ...). */
export class OptimizerError extends KeelError {}

/** Checks `value ≥ min` (and finite), with a message naming the option. */
export function checkNonNegative(op: string, name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new ValueError(`${op}: ${name} must be ≥ 0, got ${value}`);
  }
}

/** Checks 0 ≤ value < 1. */
export function checkUnit(op: string, name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ValueError(`${op}: ${name} must be in [0, 1), got ${value}`);
  }
}

function isGroupList<O>(
  params: readonly Tensor[] | readonly GroupSpec<O>[],
): params is readonly GroupSpec<O>[] {
  return params.length > 0 && 'params' in (params[0] as object) && !('shape' in (params[0] as object));
}

/** Base class of optimizers. */
export abstract class Optimizer<O extends BaseOptions> {
  readonly groups: ParamGroup<O>[] = [];
  private readonly state = new Map<Tensor, ParamState>();

  /**
   * @param params a list of tensors (one group) or a list of groups
   * @param defaults options for groups that do not set them
   * @param transform the update rule, over every parameter with a gradient
   */
  constructor(
    readonly name: string,
    params: readonly Tensor[] | readonly GroupSpec<O>[],
    readonly defaults: O,
    readonly transform: GradientTransform,
  ) {
    if (params.length === 0) throw new OptimizerError(`${name}: got an empty parameter list`);
    const specs: GroupSpec<O>[] = isGroupList(params) ? [...params] : [{ params } as GroupSpec<O>];
    for (const spec of specs) this.addParamGroup(spec);
  }

  /** Optimizer-specific checks of a group's options. */
  protected validate(_o: O): void {}

  /** Adds a group; a tensor may belong to only one group. */
  addParamGroup(spec: GroupSpec<O>): void {
    const { params, name, ...rest } = spec;
    const given = Object.fromEntries(
      Object.entries(rest).filter(([, v]) => v !== undefined),
    ) as unknown as Partial<O>;
    const options = { ...this.defaults, ...given } as O;
    const label = `${this.name}${name ? ` (group '${name}')` : ''}`;
    checkNonNegative(label, 'lr', options.lr);
    checkNonNegative(label, 'weightDecay', options.weightDecay);
    if (options.penalty !== 'l2' && options.penalty !== 'l1') {
      throw new ValueError(`${label}: penalty must be 'l2' or 'l1', got '${String(options.penalty)}'`);
    }
    if (options.proximal && options.penalty !== 'l1') {
      throw new ValueError(`${label}: proximal applies to penalty 'l1', got penalty '${options.penalty}'`);
    }
    this.validate(options);
    const seen = new Set(this.groups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (seen.has(p)) throw new OptimizerError(`${label}: parameter ${i} appears in more than one group`);
      if (!p.isLeaf)
        throw new OptimizerError(
          `${label}: parameter ${i} is not a leaf tensor (it came from '${p.gradFn?.op}')`,
        );
      if (!isFloat(p.dtype))
        throw new OptimizerError(
          `${label}: parameter ${i} has dtype ${p.dtype}; only float tensors can be optimized`,
        );
      if (!p.isContiguous()) throw new OptimizerError(`${label}: parameter ${i} is not contiguous`);
      seen.add(p);
    });
    this.groups.push({
      params: [...params],
      name: name ?? `group${this.groups.length}`,
      options,
      initialLr: options.lr,
    });
  }

  /** Learning rate of the first group (set: of every group). */
  get lr(): number {
    return this.groups[0].options.lr;
  }

  set lr(value: number) {
    checkNonNegative(this.name, 'lr', value);
    for (const g of this.groups) g.options.lr = value;
  }

  /**
   * Applies one update to every parameter that has a gradient. When, for every such parameter,
   * the transformation is u ← k·u with its group's options (plain SGD: k = −lr), each parameter is
   * updated by one in-place kernel, w ← w + k·g, straight from the gradient; otherwise the updates
   * are computed in float64 from host copies of the gradients, added by a kernel (w ← w + u), and
   * the transformation's after-step runs (the proximal L1 step).
   */
  step(): void {
    const live: { p: Tensor; g: ParamGroup<O>; s: ParamState; index: number }[] = [];
    let index = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        if (p.grad) {
          let s = this.state.get(p);
          if (!s) {
            s = { step: 0, buffers: {} };
            this.state.set(p, s);
          }
          s.step++;
          live.push({ p, g, s, index });
        }
        index++;
      }
    }
    if (!live.length) return;
    const scales = live.map(
      ({ g }) => this.transform.scale?.(g.options as unknown as ParamContext['options']) ?? null,
    );
    if (scales.every((k) => k !== null)) {
      for (const [i, { p }] of live.entries()) backend().axpy(p, scales[i] as number, p.grad as Tensor);
      return;
    }
    const contexts = (): ParamContext[] =>
      live.map(({ p, g, s, index }) => {
        let w: ArrayLike<number> | null = null;
        return {
          weights: () => (w ??= p.readSync()),
          state: s,
          options: g.options as unknown as ParamContext['options'],
          group: g.name,
          index,
          shape: p.shape,
        };
      });
    // The update vectors are scratch state reused across steps (no allocation per step).
    const updates = live.map(({ p, s }) => {
      let u = s.scratch;
      if (!u || u.length !== p.size) u = s.scratch = new Float64Array(p.size);
      u.set((p.grad as Tensor).readSync());
      return u;
    });
    this.transform.update(updates, contexts());
    live.forEach(({ p }, i) => {
      backend().axpy(p, 1, {
        storage: backend().fromHost(updates[i]),
        shape: p.shape,
        strides: p.strides,
        offset: 0,
      });
    });
    // After the step, with the new weights.
    this.transform.afterApply?.(contexts(), (i, values) => live[i].p.storage.write(live[i].p, values));
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  /** The state of parameter `p` (undefined before its first step). */
  stateOf(p: Tensor): Readonly<ParamState> | undefined {
    return this.state.get(p);
  }

  /** A JSON-safe snapshot of hyper-parameters and per-parameter state (parameters by position). */
  stateDict(): OptimizerState<O> {
    const state: OptimizerState<O>['state'] = {};
    let i = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) {
          const buffers: Record<string, number[]> = {};
          for (const [k, v] of Object.entries(s.buffers)) buffers[k] = Array.from(v);
          state[i] = { step: s.step, buffers };
        }
        i++;
      }
    }
    return {
      groups: this.groups.map((g) => ({
        name: g.name,
        paramCount: g.params.length,
        options: { ...g.options },
        initialLr: g.initialLr,
      })),
      state,
    };
  }

  /** Restores a snapshot taken from an optimizer over the same parameter layout. */
  loadStateDict(sd: OptimizerState<O>): void {
    if (sd.groups.length !== this.groups.length) {
      throw new OptimizerError(
        `${this.name}.loadStateDict: expected ${this.groups.length} groups, got ${sd.groups.length}`,
      );
    }
    sd.groups.forEach((g, gi) => {
      if (g.paramCount !== this.groups[gi].params.length) {
        throw new OptimizerError(
          `${this.name}.loadStateDict: group ${gi} has ${this.groups[gi].params.length} parameters, the state has ${g.paramCount}`,
        );
      }
    });
    this.state.clear();
    let i = 0;
    sd.groups.forEach((g, gi) => {
      const group = this.groups[gi];
      group.options = { ...g.options };
      group.initialLr = g.initialLr;
      for (const p of group.params) {
        const s = sd.state[i++];
        if (!s) continue;
        const buffers: Record<string, Float64Array> = {};
        for (const [k, v] of Object.entries(s.buffers)) {
          if (v.length !== p.size) {
            throw new OptimizerError(
              `${this.name}.loadStateDict: buffer '${k}' has ${v.length} values for a parameter of ${p.size}`,
            );
          }
          buffers[k] = Float64Array.from(v);
        }
        this.state.set(p, { step: s.step, buffers });
      }
    });
  }
}
