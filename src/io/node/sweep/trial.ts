/**
 * One trial of a sweep, as a worker process runs it: an ordinary training run (train.ts) in
 * <out>/<trial>/ (config, metrics, report, checkpoint, model), continued from its checkpoint when an
 * earlier attempt left one for the same configuration, else started over; its log in log.txt; then
 * result.json, written atomically — its presence with the trial's parameters is what "finished"
 * means to a re-run. The result carries the metrics sweep/results.ts defines (‖w‖ from
 * model.safetensors), so a summary never reopens a run.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '../../../format/safetensors.js';
import type { RunConfig } from '../../../run/config.js';
import { sameTrial, type TrialResult, trialMetrics, weightNorm } from '../../../sweep/results.js';
import { writeFileAtomic } from '../files.js';
import { CHECKPOINT_FILE } from '../runDir.js';
import { runTraining } from '../train.js';

/** What a worker is asked to run. */
export interface TrialJob {
  sweep: string;
  trial: string;
  params: Record<string, unknown>;
  config: RunConfig;
  /** The sweep directory: the trial's run goes to <dir>/<trial>/. */
  dir: string;
}

export const RESULT_FILE = 'result.json';

/** The finished result of a trial in `dir`, if there is one for these parameters. */
export function finishedResult(
  dir: string,
  trial: string,
  params: Record<string, unknown>,
): TrialResult | null {
  const path = join(dir, trial, RESULT_FILE);
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as TrialResult;
    return sameTrial(r, { params }) ? r : null;
  } catch {
    return null;
  }
}

/** Runs one trial to its end; throws what training throws (the caller records it). */
export async function runTrial(job: TrialJob, signal?: AbortSignal): Promise<TrialResult> {
  const runDir = join(job.dir, job.trial);
  mkdirSync(runDir, { recursive: true });
  const stored = join(runDir, 'config.json');
  let resume = false;
  if (existsSync(join(runDir, CHECKPOINT_FILE)) && existsSync(stored)) {
    const { environment: _e, ...was } = JSON.parse(readFileSync(stored, 'utf8'));
    resume = JSON.stringify(was) === JSON.stringify(job.config);
  }
  const logFile = join(runDir, 'log.txt');
  if (!resume) writeFileSync(logFile, '');
  const log = (line: string) => appendFileSync(logFile, `${line}\n`);
  const t0 = performance.now();
  const r = await runTraining(job.config, {
    out: job.dir,
    log,
    tty: false,
    diagnostics: false,
    resume,
    force: !resume,
    signal,
  });
  const last = r.history.epochs[r.history.epochs.length - 1];
  const model = join(runDir, 'model.safetensors');
  const norm = existsSync(model)
    ? weightNorm(parseSafetensors(readFileSync(model), model).tensors)
    : undefined;
  const metrics = trialMetrics(last, norm);
  const result: TrialResult = {
    sweep: job.sweep,
    trial: job.trial,
    params: job.params,
    status: r.end.kind === 'diverged' ? 'diverged' : 'completed',
    metrics,
    epochs: r.history.epochs.length,
    last,
    seconds: (performance.now() - t0) / 1000,
    resumed: resume,
    worker: `${hostname()}:${process.pid}`,
  };
  writeFileAtomic(join(runDir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
