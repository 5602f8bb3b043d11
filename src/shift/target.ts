/**
 * The target of a shift analysis (`keel shift --target … --shift …`): a file or directory of inputs
 * (read by io/node/predictInput.ts; labels optional), or a data set spec `<dataset>[:train|:test]` —
 * `test`, `fashion-mnist:test`, `moons:train`, … — whose labels are known; a data set target can be
 * shifted on purpose:
 *   none                 a uniform sample (default)
 *   dirichlet:<α>        class priors drawn from Dirichlet(α) (label shift)
 *   tweak-one:<c>:<ρ>    class c at prevalence ρ, the others equal (label shift)
 *   brightness:<s>       biased selection on each sample's mean input (covariate shift; s > 0
 *                        favours bright images, s < 0 dark ones)
 *   feature:<j>:<s>      biased selection on input j (covariate shift on the 2-D sets)
 * drawn (seeded) to the target's size. Every bad spec is one error naming the allowed forms.
 */
import { ValueError } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import {
  biasedSelection,
  dirichletPriors,
  rowMeans,
  sampleWithPriors,
  shuffled,
  tweakOnePriors,
} from './generate.js';

/** A parsed `--shift`. */
export type ShiftSpec =
  | { kind: 'none' }
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'tweak-one'; cls: number; rho: number }
  | { kind: 'brightness'; strength: number }
  | { kind: 'feature'; index: number; strength: number };

const SHIFT_FORMS =
  'none, dirichlet:<α>, tweak-one:<class>:<ρ>, brightness:<strength>, feature:<j>:<strength>';

/** Parses a `--shift` value. */
export function parseShiftSpec(text: string): ShiftSpec {
  const parts = text.split(':');
  const num = (i: number, what: string) => {
    const v = Number(parts[i]);
    if (parts[i] === undefined || parts[i] === '' || !Number.isFinite(v))
      throw new ValueError(
        `--shift ${text}: ${what} must be a number, got '${parts[i] ?? ''}' (forms: ${SHIFT_FORMS})`,
      );
    return v;
  };
  const arity = (n: number) => {
    if (parts.length !== n)
      throw new ValueError(
        `--shift ${text}: expected ${n - 1} value${n === 2 ? '' : 's'} after '${parts[0]}' (forms: ${SHIFT_FORMS})`,
      );
  };
  switch (parts[0]) {
    case 'none':
      arity(1);
      return { kind: 'none' };
    case 'dirichlet': {
      arity(2);
      const alpha = num(1, 'α');
      if (!(alpha > 0)) throw new ValueError(`--shift ${text}: α must be > 0, got ${alpha}`);
      return { kind: 'dirichlet', alpha };
    }
    case 'tweak-one': {
      arity(3);
      const cls = num(1, 'the class');
      const rho = num(2, 'ρ');
      if (!Number.isInteger(cls) || cls < 0)
        throw new ValueError(`--shift ${text}: the class must be an integer ≥ 0, got ${cls}`);
      if (!(rho >= 0 && rho <= 1)) throw new ValueError(`--shift ${text}: ρ must be in [0, 1], got ${rho}`);
      return { kind: 'tweak-one', cls, rho };
    }
    case 'brightness':
      arity(2);
      return { kind: 'brightness', strength: num(1, 'the strength') };
    case 'feature': {
      arity(3);
      const index = num(1, 'the feature index');
      if (!Number.isInteger(index) || index < 0)
        throw new ValueError(`--shift ${text}: the feature index must be an integer ≥ 0, got ${index}`);
      return { kind: 'feature', index, strength: num(2, 'the strength') };
    }
    default:
      throw new ValueError(`--shift ${text}: unknown shift '${parts[0]}' (forms: ${SHIFT_FORMS})`);
  }
}

/** A readable name of a shift spec. */
export function shiftSpecName(s: ShiftSpec): string {
  switch (s.kind) {
    case 'none':
      return 'no shift (a uniform sample)';
    case 'dirichlet':
      return `label shift: Dirichlet(${s.alpha}) class priors`;
    case 'tweak-one':
      return `label shift: class ${s.cls} at prevalence ${s.rho}`;
    case 'brightness':
      return `covariate shift: biased selection on the mean input (strength ${s.strength})`;
    case 'feature':
      return `covariate shift: biased selection on input ${s.index} (strength ${s.strength})`;
    default:
      return s satisfies never;
  }
}

/** A data set target: which data set and split. */
export interface DatasetTarget {
  dataset: string;
  split: 'train' | 'test';
}

/**
 * `<dataset>[:train|:test]`, or `train`/`test` alone (the run's own data set), when `text` names a
 * known data set; null when it is not one (then it is a path).
 */
export function parseDatasetTarget(
  text: string,
  runDataset: string,
  known: readonly string[],
): DatasetTarget | null {
  const [name, split, ...rest] = text.split(':');
  if (name === 'train' || name === 'test') {
    if (split !== undefined) return null;
    return { dataset: runDataset, split: name };
  }
  if (!known.includes(name)) return null;
  if (rest.length || (split !== undefined && split !== 'train' && split !== 'test'))
    throw new ValueError(`--target ${text}: the split must be 'train' or 'test' (e.g. ${name}:test)`);
  return { dataset: name, split: (split ?? 'test') as 'train' | 'test' };
}

/**
 * Row indices of a labelled pool forming the target sample of `size` under `spec` (seeded).
 * `features` is the pool's row-major inputs (for the covariate shifts).
 */
export function drawTarget(
  spec: ShiftSpec,
  pool: { features: Float32Array | Float64Array; labels: Int32Array; inputs: number; classes: number },
  size: number,
  g: Rng,
): { indices: Int32Array; priors?: number[] } {
  const n = pool.labels.length;
  const all = () => Array.from({ length: n }, (_, i) => i);
  const take = (idx: number[]) => Int32Array.from(shuffled(idx, g).slice(0, size));
  switch (spec.kind) {
    case 'none':
      return { indices: take(all()) };
    case 'dirichlet': {
      const priors = dirichletPriors(pool.classes, spec.alpha, g);
      return { indices: sampleWithPriors(pool.labels, pool.classes, priors, size, g).indices, priors };
    }
    case 'tweak-one': {
      if (spec.cls >= pool.classes)
        throw new ValueError(`--shift tweak-one:${spec.cls}:…: the class must be in 0..${pool.classes - 1}`);
      const priors = tweakOnePriors(pool.classes, spec.cls, spec.rho);
      return { indices: sampleWithPriors(pool.labels, pool.classes, priors, size, g).indices, priors };
    }
    case 'brightness':
      return {
        indices: take(Array.from(biasedSelection(rowMeans(pool.features, n), spec.strength, g).indices)),
      };
    case 'feature': {
      if (spec.index >= pool.inputs)
        throw new ValueError(
          `--shift feature:${spec.index}:…: the inputs have features 0..${pool.inputs - 1}`,
        );
      const col = Float64Array.from({ length: n }, (_, i) => pool.features[i * pool.inputs + spec.index]);
      return { indices: take(Array.from(biasedSelection(col, spec.strength, g).indices)) };
    }
    default:
      return spec satisfies never;
  }
}
