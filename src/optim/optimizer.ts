/**
 * The optimizer base: typed parameter groups with per-group hyper-parameters, validated at the
 * boundary with messages naming the value, and per-parameter state. `step()` hands the parameters
 * that have a gradient to the subclass's update: the built-in optimizers run one fused backend
 * kernel per parameter (fused.ts), `ChainOptimizer` runs a chain of gradient transformations on the
 * host (chainOptimizer.ts). Works on tensors only (never imports nn), so it tests without modules.
 */

import { dropGrad } from '../autograd/engine.js';
import { isFloat } from '../tensor/dtype.js';
import { peekGrad, type Tensor } from '../tensor/tensor.js';
import { KeelError, ValueError } from '../util/errors.js';
import type { DecayOptions } from './transforms.js';

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

/** One parameter's saved state: its step count and named buffers, as plain numbers (JSON-safe). */
export interface SavedParamState {
  step: number;
  buffers: Record<string, number[]>;
}

/** Serializable optimizer state (JSON-safe). */
export interface OptimizerState<O> {
  groups: { name: string; paramCount: number; options: O; initialLr: number }[];
  state: Record<number, SavedParamState>;
}

/** A parameter that has a gradient at this step, with its group and position in the parameter list. */
export interface LiveParam<O> {
  readonly p: Tensor;
  readonly group: ParamGroup<O>;
  readonly index: number;
}

/** Thrown for misuse of an optimizer (a parameter in two groups, a non-leaf parameter, ...). */
export class OptimizerError extends KeelError {}

/** Checks `value ≥ 0` (and finite), with a message naming the option. */
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

  /** Optimizer-specific checks of a group's options. */
  protected validate(_o: O): void {}

  /** Applies one update to each parameter of `live` (those with a gradient). */
  protected abstract update(live: readonly LiveParam<O>[]): void;

  /** Parameter `p`'s state as numbers, or undefined before its first step. */
  protected abstract saveState(p: Tensor): SavedParamState | undefined;

  /** Restores `p`'s state from `saveState`'s numbers (already checked to fit `p`), or clears it. */
  protected abstract loadState(p: Tensor, s: SavedParamState | undefined): void;

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

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    const live: LiveParam<O>[] = [];
    let index = 0;
    for (const group of this.groups) {
      for (const p of group.params) {
        if (peekGrad(p)) live.push({ p, group, index });
        index++;
      }
    }
    if (live.length) this.update(live);
  }

  /**
   * Clears the gradients of all parameters: `.grad` becomes null, as PyTorch's `zero_grad()` does by
   * default. A gradient that backward made for its parameter and that no code outside keel read goes
   * back to the memory pool at once; one you read (`p.grad`) stays valid for as long as you hold it.
   */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) dropGrad(p);
  }

  /** The step count and buffers of parameter `p`, as numbers (undefined before its first step). */
  stateOf(p: Tensor): SavedParamState | undefined {
    return this.saveState(p);
  }

  /** A JSON-safe snapshot of hyper-parameters and per-parameter state (parameters by position). */
  stateDict(): OptimizerState<O> {
    const state: OptimizerState<O>['state'] = {};
    let i = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        const s = this.saveState(p);
        if (s) state[i] = s;
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
    let i = 0;
    for (const group of this.groups) {
      for (const p of group.params) {
        const s = sd.state[i++];
        for (const [k, v] of Object.entries(s?.buffers ?? {})) {
          if (v.length !== p.size) {
            throw new OptimizerError(
              `${this.name}.loadStateDict: buffer '${k}' has ${v.length} values for a parameter of ${p.size}`,
            );
          }
        }
      }
    }
    i = 0;
    sd.groups.forEach((g, gi) => {
      const group = this.groups[gi];
      group.options = { ...g.options };
      group.initialLr = g.initialLr;
      for (const p of group.params) this.loadState(p, sd.state[i++]);
    });
  }
}
