/**
 * What an experiment receives and returns. Experiments are platform-neutral: data files are loaded
 * by the caller (io/node/experiment.ts) and passed in; results are plain objects, plots are
 * Vega-Lite specs, and per-epoch metrics are streamed through `onMetrics` as they happen (so a crash
 * loses nothing already computed).
 */
import type { ImageSet } from '../data/fashionMnist.js';
import type { Plot } from '../report/plots.js';
import type { Divergence, DivergenceOptions, ProgressSink } from '../train/fit.js';

/** Inputs of an experiment run. */
export interface ExperimentContext {
  seed: number;
  /**
   * How many seeds (seed, seed + 1, …) an experiment that repeats its trainings runs (best-mlp,
   * perturbation); unset: the experiment's own default. Others run `seed` only.
   */
  seeds?: number;
  /** A short version (fewer epochs/points) with the same code path, for tests. */
  quick: boolean;
  /** Fashion-MNIST when available (null: experiments that need it throw, the demo skips them). */
  fashion: { train: ImageSet; test: ImageSet } | null;
  log: (line: string) => void;
  /** Receives one JSON-able row per epoch or measurement. */
  onMetrics: (row: Record<string, unknown>) => void;
  progress?: ProgressSink;
  /** Aborting it stops the experiment between two training steps (its `fit` calls reject). */
  signal?: AbortSignal;
  /** What the experiment's trainings do when their loss diverges (default: stop). */
  divergence?: DivergenceOptions;
}

/** One acceptance check with the published reference it stands for. */
export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/** What an experiment produced. */
export interface ExperimentResult {
  name: string;
  title: string;
  /** Key numbers for the report's summary table. */
  summary: [string, string][];
  checks: Check[];
  plots: Plot[];
  /** The id of the plot that shows the experiment's point best (the demo's index draws it; default the first). */
  keyPlot?: string;
  tables?: { title: string; header: string[]; rows: (string | number)[][] }[];
  /** The result object printed by `--json`. */
  result: Record<string, unknown>;
  /** The hyper-parameters that ran (the report's configuration box, config.json). */
  settings: Record<string, unknown>;
  /** Trainings of the experiment whose loss diverged unexpectedly (a demonstrated divergence is not listed). */
  diverged?: { run: string; divergence: Divergence }[];
}

/** An experiment: its name, a one-line description, whether it needs Fashion-MNIST, and its run. */
export interface Experiment {
  name: string;
  description: string;
  needsFashion: boolean;
  run(ctx: ExperimentContext): Promise<ExperimentResult>;
}
