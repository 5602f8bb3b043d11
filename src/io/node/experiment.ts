/**
 * One of the chapter's experiments run into its run directory (`keel experiment <name>`, each
 * section of the demo): streams its metrics to <out>/<name>/metrics.jsonl, writes report.html with
 * its plots, tables, acceptance checks and the hyper-parameters that ran, and result.json. An
 * interrupt or an error still writes a report of what the metrics hold, marked as such, before a
 * RunAbortedError carries the end to the caller.
 */
import type { ImageSet } from '../../data/fashionMnist.js';
import type { Experiment, ExperimentResult } from '../../experiments/types.js';
import { experimentReport } from '../../report/experiment.js';
import { partialReport } from '../../report/partial.js';
import { RunAbortedError } from '../../run/end.js';
import { stoppedEnd, stoppedReport } from '../../run/stopped.js';
import type { DivergenceOptions } from '../../train/fit.js';
import { loadFashion } from './fashionCache.js';
import { environmentInfo } from './info.js';
import { terminalProgress } from './progress.js';
import { RunDir } from './runDir.js';
import { refuseAsyncMemory } from './syncReads.js';

/** Options of an experiment's run. */
export interface ExperimentRunOptions {
  out: string;
  seed: number;
  /** Seeds of the experiments that repeat their trainings (default: the experiment's own). */
  seeds?: number;
  quick: boolean;
  download: boolean;
  log: (line: string) => void;
  tty?: boolean;
  /** Fashion-MNIST already loaded (the demo loads it once for several experiments). */
  fashion?: { train: ImageSet; test: ImageSet } | null;
  /** Run directory name (default: the experiment's name). */
  runName?: string;
  signal?: AbortSignal;
  divergence?: DivergenceOptions;
}

/** Runs one experiment and writes its run directory. */
export async function runExperiment(
  e: Experiment,
  o: ExperimentRunOptions,
): Promise<{ result: ExperimentResult; report: string }> {
  // Before any data is read: the experiments compute their checks from values read synchronously.
  refuseAsyncMemory(
    `experiment ${e.name}`,
    'the experiments read values synchronously (item(), readSync())',
    'them',
  );
  let fashion = o.fashion ?? null;
  if (e.needsFashion && !fashion) fashion = await loadFashion({ download: o.download, log: o.log });
  const run = new RunDir(o.out, o.runName ?? e.name, 'output');
  try {
    return await runInto(run, e, o, fashion);
  } finally {
    run.release();
  }
}

/** runExperiment's work once its run directory is open (and locked). */
async function runInto(
  run: RunDir,
  e: Experiment,
  o: ExperimentRunOptions,
  fashion: { train: ImageSet; test: ImageSet } | null,
): Promise<{ result: ExperimentResult; report: string }> {
  const basics = { experiment: e.name, seed: o.seed, quick: o.quick, ...(o.seeds ? { seeds: o.seeds } : {}) };
  run.writeConfig(basics);
  const subtitle = (s: string) =>
    `keel experiment ${e.name}${o.quick ? ' --quick' : ''}${o.seeds ? ` --seeds ${o.seeds}` : ''} (seed ${o.seed}${s})`;
  const t0 = performance.now();
  let result: ExperimentResult;
  try {
    result = await e.run({
      seed: o.seed,
      seeds: o.seeds,
      quick: o.quick,
      fashion,
      log: o.log,
      onMetrics: (row) => run.appendMetrics(row),
      progress: terminalProgress(() => {}, o.tty),
      signal: o.signal,
      divergence: o.divergence,
    });
  } catch (err) {
    const epochs = run.readMetrics().filter((r) => typeof r.epoch === 'number').length;
    const end = stoppedEnd(err, epochs);
    const { report, reportError } = await stoppedReport(() =>
      run.writeReport(
        partialReport(run.readMetrics(), {
          id: e.name,
          title: e.name,
          subtitle: subtitle(''),
          config: basics,
          end,
        }),
      ),
    );
    throw new RunAbortedError(err, end, report, reportError);
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const c of result.checks) o.log(`  ${c.passed ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`);
  const config = { ...basics, ...result.settings };
  run.writeConfig({ ...config, environment: environmentInfo() });
  const report = await run.writeReport(
    experimentReport(result, subtitle(`, ${seconds.toFixed(1)} s`), config),
  );
  run.writeFile(
    'result.json',
    `${JSON.stringify({ name: e.name, checks: result.checks, settings: result.settings, ...result.result }, null, 2)}\n`,
  );
  o.log(`report: ${report}`);
  return { result, report };
}
