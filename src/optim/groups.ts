/**
 * The default parameter-group rule (nanoGPT's): decay tensors of rank ≥ 2 (weight matrices), not
 * biases, norm weights or other vectors. Overridable with a predicate over (name, tensor).
 */
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import type { BaseOptions, GroupSpec } from './optimizer.js';

/** Options of `decayGroups`. */
export interface DecayGroupsOptions {
  /** λ for the decayed group. */
  weightDecay: number;
  /** True for parameters that must not be decayed. Default: rank < 2 (biases, norm weights, PReLU slopes). */
  noDecay?: (name: string, p: Tensor) => boolean;
  /** Other options shared by both groups (e.g. lr, penalty). */
  shared?: Partial<BaseOptions>;
}

/**
 * Splits named parameters into a 'decay' group (weightDecay λ) and a 'noDecay' group (λ = 0).
 * Empty groups are left out.
 */
export function decayGroups(
  named: Iterable<readonly [string, Tensor]>,
  opts: DecayGroupsOptions,
): GroupSpec<BaseOptions>[] {
  if (!(opts.weightDecay >= 0))
    throw new ValueError(`decayGroups: weightDecay must be ≥ 0, got ${opts.weightDecay}`);
  const noDecay = opts.noDecay ?? ((_: string, p: Tensor) => p.ndim < 2);
  const decay: Tensor[] = [];
  const keep: Tensor[] = [];
  for (const [name, p] of named) (noDecay(name, p) ? keep : decay).push(p);
  const groups: GroupSpec<BaseOptions>[] = [];
  if (decay.length)
    groups.push({ ...opts.shared, params: decay, name: 'decay', weightDecay: opts.weightDecay });
  if (keep.length) groups.push({ ...opts.shared, params: keep, name: 'noDecay', weightDecay: 0 });
  return groups;
}
