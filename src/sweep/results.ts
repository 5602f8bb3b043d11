/**
 * What a sweep's trials produced and how they rank. A trial's result (result.json) carries the last
 * epoch's metrics, the test − train loss gap and ‖w‖ (the L2 norm of the weight matrices), so that a
 * summary never reopens a run; `rankTrials` sorts the finished trials by the sweep's metric, best
 * first, and lists the diverged, failed and unfinished ones after them.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { EpochRecord } from '../train/fit.js';
import { EPOCH_METRICS, type MetricName, type Sweep } from './spec.js';

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

/** Whether an earlier result (or checkpoint) belongs to this trial: the same parameters. */
export const sameTrial = (a: { params: unknown }, b: { params: unknown }) =>
  JSON.stringify(a.params) === JSON.stringify(b.params);

/** ‖w‖: the L2 norm over the rank ≥ 2 tensors (the weight matrices) of a state dict. */
export function weightNorm(tensors: Record<string, Tensor>): number {
  let s = 0;
  for (const t of Object.values(tensors)) {
    if (t.shape.length < 2) continue;
    const d = t.readSync() as ArrayLike<number>;
    for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  }
  return Math.sqrt(s);
}

/** A trial's metrics: the last epoch's numbers, the test − train loss gap, and ‖w‖ when known. */
export function trialMetrics(last: EpochRecord | undefined, norm?: number): TrialResult['metrics'] {
  const metrics: TrialResult['metrics'] = {};
  if (last) {
    for (const k of EPOCH_METRICS) if (last[k] !== undefined) metrics[k] = last[k];
    if (last.testLoss !== undefined) metrics.gap = last.testLoss - last.trainLoss;
  }
  if (norm !== undefined) metrics.weightNorm = norm;
  return metrics;
}

/** A trial's state at the end of a sweep command. */
export type TrialOutcome =
  | { trial: string; params: Record<string, unknown>; state: 'done'; result: TrialResult }
  | { trial: string; params: Record<string, unknown>; state: 'failed'; error: string }
  | { trial: string; params: Record<string, unknown>; state: 'unfinished' };

/** One row of the ranked table (also the --json output). */
export interface RankedRow {
  rank: number | null;
  trial: string;
  params: Record<string, unknown>;
  state: TrialOutcome['state'] | 'diverged';
  metric: number | null;
  metrics: Partial<Record<MetricName, number>>;
  seconds: number | null;
  error?: string;
}

/** Trials sorted by the metric (best first); unfinished, failed and diverged ones after. */
export function rankTrials(sweep: Sweep, outcomes: TrialOutcome[]): RankedRow[] {
  const m = sweep.metric;
  const value = (o: TrialOutcome) =>
    o.state === 'done' && o.result.status === 'completed' ? o.result.metrics[m.name] : undefined;
  const ranked = outcomes
    .filter((o) => Number.isFinite(value(o)))
    .sort((a, b) => ((value(a) as number) - (value(b) as number)) * (m.goal === 'min' ? 1 : -1));
  const rest = outcomes.filter((o) => !Number.isFinite(value(o)));
  return [...ranked, ...rest].map((o, i) => ({
    rank: i < ranked.length ? i + 1 : null,
    trial: o.trial,
    params: o.params,
    state: o.state === 'done' && o.result.status === 'diverged' ? 'diverged' : o.state,
    metric: value(o) ?? null,
    metrics: o.state === 'done' ? o.result.metrics : {},
    seconds: o.state === 'done' ? o.result.seconds : null,
    error: o.state === 'failed' ? o.error : undefined,
  }));
}
