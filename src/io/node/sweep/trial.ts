/**
 * One trial of a sweep, as a worker process runs it: an ordinary training run (train.ts) in
 * <out>/<trial>/ (config, metrics, report, checkpoint, model), continued from its checkpoint when an
 * earlier attempt left one for the same configuration, else started over; its log in log.txt; then
 * result.json, written atomically — its presence with the trial's parameters is what "finished"
 * means to a re-run. The result carries the metrics sweep/results.ts defines (‖w‖ from
 * model.safetensors), so a summary never reopens a run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '../../../format/safetensors.js';
import type { RunConfig } from '../../../run/config.js';
import { sameTrial, type TrialResult, trialMetrics, weightNorm } from '../../../sweep/results.js';
import { appendLine, writeFileAtomic } from '../files.js';
import { ensureDir } from '../paths.js';
import { CHECKPOINT_FILE } from '../runDir.js';
import { lockRunDir, type RunLock, waitForRunLock } from '../runLock.js';
import { runTraining } from '../train.js';

/** What a worker is asked to run. */
export interface TrialJob {
  sweep: string;
  trial: string;
  params: Record<string, unknown>;
  config: RunConfig;
  /** The sweep directory: the trial's run goes to <dir>/<trial>/. */
  dir: string;
  /**
   * Wait while another process holds the trial's run directory (a queue worker taking over a job
   * whose first worker still runs it), instead of failing: then take its result, or continue it.
   */
  waitForLock?: boolean;
  /** The run directory lock's lease in ms (a queue worker's lock duration). */
  lockLease?: number;
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
  const runDir = ensureDir(join(job.dir, job.trial), 'trial directory');
  // The trial's run directory is this process's alone while it runs (runLock.ts).
  const lock: RunLock = job.waitForLock
    ? await waitForRunLock(runDir, {
        lease: job.lockLease,
        signal,
        onWait: (e) => process.stderr.write(`${job.sweep}/${job.trial}: waiting — ${e.message}\n`),
      })
    : lockRunDir(runDir, { lease: job.lockLease });
  try {
    // Finished meanwhile (by the worker whose job this was before it stalled): its result stands.
    return finishedResult(job.dir, job.trial, job.params) ?? (await trainTrial(job, runDir, signal));
  } finally {
    lock.release();
  }
}

/** Trains a trial whose run directory this process holds. */
async function trainTrial(job: TrialJob, runDir: string, signal?: AbortSignal): Promise<TrialResult> {
  const stored = join(runDir, 'config.json');
  let resume = false;
  if (existsSync(join(runDir, CHECKPOINT_FILE)) && existsSync(stored)) {
    const { environment: _e, ...was } = JSON.parse(readFileSync(stored, 'utf8'));
    resume = JSON.stringify(was) === JSON.stringify(job.config);
  }
  const logFile = join(runDir, 'log.txt');
  if (!resume) writeFileAtomic(logFile, '');
  const log = (line: string) => appendLine(logFile, line);
  const t0 = performance.now();
  const r = await runTraining(job.config, {
    out: job.dir,
    log,
    tty: false,
    diagnostics: false,
    resume,
    force: !resume,
    signal,
    lease: job.lockLease,
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
