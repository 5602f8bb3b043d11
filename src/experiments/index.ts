/** The chapter's experiments, by name (`keel experiment <name>`). */
import { covariateShift } from './covariateShift.js';
import { bestMlp, dropoutExperiment, mlp } from './fashion.js';
import { labelShift } from './labelShift.js';
import { memory } from './memory.js';
import { stability } from './stability.js';
import type { Experiment } from './types.js';
import { underfitOverfit } from './underfitOverfit.js';
import { weightDecay } from './weightDecay.js';

export { fashionMlp } from './fashion.js';
export * from './types.js';

/** Every experiment, in the order of the chapter. */
export const EXPERIMENTS: readonly Experiment[] = [
  underfitOverfit,
  weightDecay,
  mlp,
  dropoutExperiment,
  stability,
  memory,
  labelShift,
  covariateShift,
  bestMlp,
];

/** Looks an experiment up by name. */
export function experimentByName(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
