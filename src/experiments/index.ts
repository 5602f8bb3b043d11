/**
 * The chapter's experiments, by name (`keel experiment <name>`): every name of the catalog mapped
 * to its experiment — a name without one, or one the catalog lacks, fails the type check — in the
 * catalog's (the chapter's) order.
 */

import { ValueError } from '../util/errors.js';
import { bestMlp } from './bestMlp.js';
import { CATALOG, type ExperimentName } from './catalog.js';
import { covariateShift } from './covariateShift.js';
import { dropoutExperiment } from './dropout.js';
import { labelShift } from './labelShift.js';
import { memory } from './memory.js';
import { mlp } from './mlp.js';
import { perturbation } from './perturbation.js';
import { stability } from './stability.js';
import type { Experiment } from './types.js';
import { underfitOverfit } from './underfitOverfit.js';
import { weightDecay } from './weightDecay.js';

export { CATALOG, type ExperimentInfo, type ExperimentName } from './catalog.js';
export { fashionMlp } from './fashionTrainer.js';
export * from './types.js';

const BY_NAME: { [K in ExperimentName]: Experiment } = {
  'underfit-overfit': underfitOverfit,
  'weight-decay': weightDecay,
  mlp,
  dropout: dropoutExperiment,
  stability,
  memory,
  'label-shift': labelShift,
  'covariate-shift': covariateShift,
  perturbation,
  'best-mlp': bestMlp,
};

/** Every experiment, in the order of the chapter. */
export const EXPERIMENTS: readonly Experiment[] = CATALOG.map((e) => BY_NAME[e.name]);

/** Looks an experiment up by name. */
export function experimentByName(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}

/** Looks an experiment up by name; an unknown name is an error that lists the names. */
export function findExperiment(name: string): Experiment {
  const e = experimentByName(name);
  if (!e)
    throw new ValueError(
      `unknown experiment '${name}' (available: ${EXPERIMENTS.map((x) => x.name).join(', ')})`,
    );
  return e;
}
