/**
 * `keel experiment <name>`: runs one of the chapter's experiments, streams its metrics to
 * runs/<name>/metrics.jsonl, writes report.html with its plots, tables and acceptance checks, and
 * (with --json) prints the result object on stdout.
 */
import type { ImageSet } from '../../data/fashionMnist.js';
import {
  EXPERIMENTS,
  type Experiment,
  type ExperimentResult,
  experimentByName,
} from '../../experiments/index.js';
import { ValueError } from '../../util/errors.js';
import { loadFashion } from '../fashion.js';
import { terminalProgress } from '../progress.js';
import { RunDir } from '../runDir.js';

/** Options of an experiment run from the CLI. */
export interface ExperimentCommandOptions {
  out: string;
  seed: number;
  quick: boolean;
  download: boolean;
  log: (line: string) => void;
  tty?: boolean;
  /** Fashion-MNIST already loaded (the demo loads it once for several experiments). */
  fashion?: { train: ImageSet; test: ImageSet } | null;
  /** Run directory name (default: the experiment's name). */
  runName?: string;
}

/** Looks up an experiment, with the list of names in the error. */
export function findExperiment(name: string): Experiment {
  const e = experimentByName(name);
  if (!e)
    throw new ValueError(
      `unknown experiment '${name}' (available: ${EXPERIMENTS.map((x) => x.name).join(', ')})`,
    );
  return e;
}

/** Runs one experiment and writes its run directory. */
export async function experimentCommand(
  e: Experiment,
  o: ExperimentCommandOptions,
): Promise<{ result: ExperimentResult; report: string }> {
  let fashion = o.fashion ?? null;
  if (e.needsFashion && !fashion) fashion = await loadFashion({ download: o.download, log: o.log });
  const run = new RunDir(o.out, o.runName ?? e.name);
  run.writeConfig({ experiment: e.name, seed: o.seed, quick: o.quick });
  const t0 = performance.now();
  const result = e.run({
    seed: o.seed,
    quick: o.quick,
    fashion,
    log: o.log,
    onMetrics: (row) => run.appendMetrics(row),
    progress: terminalProgress(() => {}, o.tty),
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const c of result.checks) o.log(`  ${c.passed ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`);
  const report = await run.writeReport(
    {
      title: result.title,
      subtitle: `keel experiment ${e.name}${o.quick ? ' --quick' : ''} (seed ${o.seed}, ${seconds.toFixed(1)} s)`,
      summary: result.summary,
      findings: result.checks.map((c) => `${c.passed ? '✔' : '✘'} ${c.name}: ${c.detail}`),
      tables: result.tables,
      config: { experiment: e.name, seed: o.seed, quick: o.quick },
    },
    result.plots,
  );
  run.writeFile(
    'result.json',
    `${JSON.stringify({ name: e.name, checks: result.checks, ...result.result }, null, 2)}\n`,
  );
  o.log(`report: ${report}`);
  return { result, report };
}
