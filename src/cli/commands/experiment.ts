/**
 * `keel experiment <name>`: runs one of the chapter's experiments, streams its metrics to
 * runs/<name>/metrics.jsonl, writes report.html with its plots, tables, acceptance checks and the
 * hyper-parameters that ran, and (with --json) prints the result object on stdout. An interrupt or
 * an error still writes a report of what the metrics hold, marked as such.
 */
import type { ImageSet } from '../../data/fashionMnist.js';
import {
  EXPERIMENTS,
  type Experiment,
  type ExperimentResult,
  experimentByName,
} from '../../experiments/index.js';
import { environmentInfo } from '../../io/node/info.js';
import type { ReportStatus } from '../../report/html.js';
import { type DivergenceOptions, InterruptedError } from '../../train/fit.js';
import { ValueError } from '../../util/errors.js';
import { loadFashion } from '../fashion.js';
import { writePartialReport } from '../partialReport.js';
import { terminalProgress } from '../progress.js';
import { RunDir } from '../runDir.js';
import { divergenceSentence, RunAbortedError, type RunEnd } from '../runEnd.js';

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
  signal?: AbortSignal;
  divergence?: DivergenceOptions;
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

/** The banner of a finished experiment: diverged trainings first, then failed checks. */
function experimentStatus(result: ExperimentResult): ReportStatus {
  const failed = result.checks.filter((c) => !c.passed);
  const diverged = result.diverged ?? [];
  if (diverged.length)
    return {
      level: 'error',
      text: diverged.map((d) => `${d.run}: training ${divergenceSentence(d.divergence)}`).join(' '),
    };
  if (failed.length)
    return {
      level: 'warning',
      text: `${failed.length} of ${result.checks.length} checks failed: ${failed.map((c) => c.name).join('; ')}.`,
    };
  return { level: 'ok', text: `All ${result.checks.length} checks passed.` };
}

/** Runs one experiment and writes its run directory. */
export async function experimentCommand(
  e: Experiment,
  o: ExperimentCommandOptions,
): Promise<{ result: ExperimentResult; report: string }> {
  let fashion = o.fashion ?? null;
  if (e.needsFashion && !fashion) fashion = await loadFashion({ download: o.download, log: o.log });
  const run = new RunDir(o.out, o.runName ?? e.name, 'force');
  const basics = { experiment: e.name, seed: o.seed, quick: o.quick };
  run.writeConfig(basics);
  const subtitle = (s: string) =>
    `keel experiment ${e.name}${o.quick ? ' --quick' : ''} (seed ${o.seed}${s})`;
  const t0 = performance.now();
  let result: ExperimentResult;
  try {
    result = await e.run({
      seed: o.seed,
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
    const end: RunEnd =
      err instanceof InterruptedError
        ? { kind: 'interrupted', signal: String(err.reason ?? 'abort'), ...err.at, epochs }
        : { kind: 'failed', error: (err as Error)?.message ?? String(err), epochs };
    const report = await writePartialReport(run, {
      id: e.name,
      title: e.name,
      subtitle: subtitle(''),
      config: basics,
      end,
    });
    throw new RunAbortedError(err, end, report);
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const c of result.checks) o.log(`  ${c.passed ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`);
  const config = { ...basics, ...result.settings };
  run.writeConfig({ ...config, environment: environmentInfo() });
  const report = await run.writeReport(
    {
      title: result.title,
      subtitle: subtitle(`, ${seconds.toFixed(1)} s`),
      status: experimentStatus(result),
      summary: result.summary,
      findings: result.checks.map((c) => `${c.passed ? '✔' : '✘'} ${c.name}: ${c.detail}`),
      tables: result.tables,
      config,
    },
    result.plots,
  );
  run.writeFile(
    'result.json',
    `${JSON.stringify({ name: e.name, checks: result.checks, settings: result.settings, ...result.result }, null, 2)}\n`,
  );
  o.log(`report: ${report}`);
  return { result, report };
}
