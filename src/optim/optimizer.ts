/**
 * The optimizer base: typed parameter groups with per-group hyper-parameters, per-parameter state,
 * and a step that runs the group's chain of transforms (transforms.ts) on each gradient and adds
 * the result to the weights in place. Validates at the boundary with messages naming the value.
 * Works on tensors only (never imports nn), so it tests without modules.
 */

import { backend } from '../backend/registry.js';
import { isFloat } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { KeelError, ValueError } from '../util/errors.js';
import {
  type DecayOptions,
  type LrOptions,
  type ParamState,
  scaleByLearningRate,
  softThreshold,
  type Transform,
} from './transforms.js';

/** Options every optimizer has: the learning rate and weight decay. */
export interface BaseOptions extends LrOptions, DecayOptions {}

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
   */
  constructor(
    readonly name: string,
    params: readonly Tensor[] | readonly GroupSpec<O>[],
    readonly defaults: O,
  ) {
    if (params.length === 0) throw new OptimizerError(`${name}: got an empty parameter list`);
    const specs: GroupSpec<O>[] = isGroupList(params) ? [...params] : [{ params } as GroupSpec<O>];
    for (const spec of specs) this.addParamGroup(spec);
  }

  /** The transforms applied, in order, for a group with options `o`. */
  protected abstract chain(o: O): Transform<O>[];

  /** Optimizer-specific checks of a group's options. */
  protected abstract validate(o: O): void;

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
   * Applies one update to every parameter that has a gradient. Plain SGD (no momentum, no decay)
   * is one in-place kernel, w ← w − lr·g, straight from the gradient; other chains compute the
   * update u in float64 from a host copy of the gradient, and a kernel adds it: w ← w + u.
   */
  step(): void {
    for (const group of this.groups) {
      const o = group.options;
      const chain = this.chain(o).filter((t) => !t.isNoop?.(o));
      const plain = chain.length === 1 && chain[0] === scaleByLearningRate;
      for (const p of group.params) {
        const grad = p.grad;
        if (!grad) continue;
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, buffers: {} };
          this.state.set(p, s);
        }
        s.step++;
        if (plain) backend().axpy(p, -o.lr, grad);
        else {
          // The update vector is scratch state reused across steps (no allocation per step).
          let u = s.scratch;
          if (!u || u.length !== p.size) u = s.scratch = new Float64Array(p.size);
          u.set(grad.readSync());
          let w: ArrayLike<number> | null = null;
          const weights = () => (w ??= p.readSync());
          for (const t of chain) t.apply(u, weights, s, o);
          backend().axpy(p, 1, {
            storage: backend().fromHost(u),
            shape: p.shape,
            strides: p.strides,
            offset: 0,
          });
        }
        if (o.penalty === 'l1' && o.proximal && o.weightDecay > 0) {
          const w = p.readSync() as Float32Array | Float64Array;
          softThreshold(w, o.lr * o.weightDecay);
          p.storage.write(p, w);
        }
      }
    }
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
