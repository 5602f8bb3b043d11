/**
 * One trial of a sweep, as a worker process runs it: an ordinary `keel train` run in
 * <out>/<trial>/ (config, metrics, report, checkpoint, model), continued from its checkpoint when an
 * earlier attempt left one for the same configuration, else started over; its log in log.txt; then
 * result.json, written atomically — its presence with the trial's parameters is what "finished"
 * means to a re-run. The result carries the last epoch's metrics, the test − train loss gap and ‖w‖
 * (the L2 norm of the weight matrices, from model.safetensors), so a summary never reopens a run.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '../format/safetensors.js';
import { writeFileAtomic } from '../io/node/files.js';
import type { EpochRecord } from '../train/fit.js';
import { trainCommand } from './commands/train.js';
import type { RunConfig } from './config.js';
import { CHECKPOINT_FILE } from './runDir.js';
import { EPOCH_METRICS, type MetricName } from './sweepSpec.js';

/** What a worker is asked to run. */
export interface TrialJob {
  sweep: string;
  trial: string;
  params: Record<string, unknown>;
  config: RunConfig;
  /** The sweep directory: the trial's run goes to <dir>/<trial>/. */
  dir: string;
}

/** What a finished trial reports (result.json). */
export interface TrialResult {
  sweep: string;
  trial: string;
  params: Record<string, unknown>;
  /** 'diverged': training stopped at a NaN/Inf or exploding loss (its metrics are those of the last full epoch). */
  status: 'completed' | 'diverged';
  metrics: Partial<Record<MetricName, number>>;
  epochs: number;
  last?: EpochRecord;
  seconds: number;
  /** Whether this attempt continued an earlier attempt's checkpoint. */
  resumed: boolean;
  /** Which process ran it (host:pid). */
  worker: string;
}

export const RESULT_FILE = 'result.json';

/** A trial's parameters and configuration, compared to decide whether an earlier result or checkpoint is this trial's. */
export const sameTrial = (
  a: { params: unknown; config?: unknown },
  b: { params: unknown; config?: unknown },
) => JSON.stringify(a.params) === JSON.stringify(b.params);

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

/** ‖w‖: the L2 norm over the rank ≥ 2 tensors (weight matrices) of a safetensors state dict. */
function weightNorm(path: string): number {
  const st = parseSafetensors(readFileSync(path), path);
  let s = 0;
  for (const t of Object.values(st.tensors)) {
    if (t.shape.length < 2) continue;
    const d = t.readSync() as ArrayLike<number>;
    for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  }
  return Math.sqrt(s);
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
  const r = await trainCommand(job.config, {
    out: job.dir,
    log,
    tty: false,
    diagnostics: false,
    resume,
    force: !resume,
    signal,
  });
  const last = r.history.epochs[r.history.epochs.length - 1];
  const metrics: TrialResult['metrics'] = {};
  if (last) {
    for (const k of EPOCH_METRICS) if (last[k] !== undefined) metrics[k] = last[k];
    if (last.testLoss !== undefined) metrics.gap = last.testLoss - last.trainLoss;
  }
  const model = join(runDir, 'model.safetensors');
  if (existsSync(model)) metrics.weightNorm = weightNorm(model);
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
