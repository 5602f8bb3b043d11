/**
 * Ready-made callbacks: early stopping (with restoring the best weights), stepping a learning-rate
 * scheduler once per epoch (ReduceLROnPlateau on a monitored value), and a checkpoint hook that
 * hands model and optimizer state to a save function (the CLI writes files).
 */
import type { Module } from '../nn/module.js';
import type { BaseOptions, OptimizerState } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedulers.js';
import { ReduceLROnPlateau } from '../optim/schedulers.js';
import { tensor } from '../tensor/create.js';
import { peekGrad, type Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { sumOfSquares } from '../util/hostSums.js';
import type { Callback, CallbackState, EpochRecord } from './fit.js';

/** A quantity of the epoch record to watch. */
export type EpochMetric =
  | 'valLoss'
  | 'valAccuracy'
  | 'trainLoss'
  | 'testLoss'
  | 'testAccuracy'
  | 'trainAccuracy';

function read(record: EpochRecord, monitor: EpochMetric): number {
  const v = record[monitor];
  if (v === undefined)
    throw new ValueError(`callback: the epoch record has no '${monitor}' (is a validation loader given?)`);
  return v;
}

/** Options of `earlyStopping`. */
export interface EarlyStoppingOptions {
  monitor?: EpochMetric;
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'min' for losses (default), 'max' for accuracies. */
  mode?: 'min' | 'max';
  /** Put back the weights of the best epoch when stopping or finishing (default true). */
  restoreBest?: boolean;
}

/** Stops when the monitored value has not improved for `patience` epochs. */
export function earlyStopping(opts: EarlyStoppingOptions = {}): Callback & { bestEpoch: () => number } {
  const monitor = opts.monitor ?? 'valLoss';
  const patience = opts.patience ?? 5;
  const minDelta = opts.minDelta ?? 0;
  const mode = opts.mode ?? (monitor.endsWith('Accuracy') ? 'max' : 'min');
  const restore = opts.restoreBest ?? true;
  let best = mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let bad = 0;
  let snapshot: Record<string, Tensor> | null = null;
  const save = (m: Module) => {
    snapshot = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, tensor(v)]));
  };
  return {
    bestEpoch: () => bestEpoch,
    onEpochEnd(record, ctx) {
      const v = read(record, monitor);
      const improved = mode === 'min' ? v < best - minDelta : v > best + minDelta;
      if (improved) {
        best = v;
        bestEpoch = record.epoch;
        bad = 0;
        if (restore) save(ctx.model);
        return;
      }
      bad++;
      if (bad >= patience) return 'stop';
    },
    onTrainEnd(_h, ctx) {
      if (restore && snapshot) ctx.model.loadStateDict(snapshot);
    },
    stateDict() {
      return { values: { best, bestEpoch, bad }, tensors: snapshot ?? {} };
    },
    loadStateDict(s) {
      const v = s.values as { best: number; bestEpoch: number; bad: number };
      ({ best, bestEpoch, bad } = v);
      snapshot = s.tensors && Object.keys(s.tensors).length ? { ...s.tensors } : null;
    },
  };
}

/**
 * Steps a scheduler after every epoch (ReduceLROnPlateau gets the monitored value), or after every
 * optimizer step with `per: 'batch'` (OneCycleLR); its position is kept in checkpoints.
 */
export function schedulerStep(
  scheduler: LRScheduler | ReduceLROnPlateau,
  monitor: EpochMetric = 'valLoss',
  opts: { per?: 'epoch' | 'batch' } = {},
): Callback {
  const per = opts.per ?? 'epoch';
  if (per !== 'epoch' && per !== 'batch')
    throw new ValueError(`schedulerStep: per must be 'epoch' or 'batch', got '${String(per)}'`);
  if (per === 'batch' && scheduler instanceof ReduceLROnPlateau)
    throw new ValueError("schedulerStep: ReduceLROnPlateau steps on an epoch metric; use per: 'epoch'");
  const state = {
    stateDict: () => ({ values: scheduler.stateDict() }),
    loadStateDict(s: CallbackState) {
      (scheduler as { loadStateDict(v: unknown): void }).loadStateDict(s.values);
    },
  };
  if (per === 'batch') return { onStep: () => (scheduler as LRScheduler).step(), ...state };
  return {
    ...state,
    onEpochEnd(record) {
      if (scheduler instanceof ReduceLROnPlateau) scheduler.step(read(record, monitor));
      else scheduler.step();
    },
  };
}

/** What a checkpoint holds. */
export interface Checkpoint {
  epoch: number;
  model: Record<string, Tensor>;
  optimizer: OptimizerState<BaseOptions>;
  record: EpochRecord;
}

/** Calls `save` with the model and optimizer state every `every` epochs (default 1). */
export function checkpoint(save: (c: Checkpoint) => void, every = 1): Callback {
  if (!Number.isInteger(every) || every < 1)
    throw new ValueError(`checkpoint: every must be a positive integer, got ${every}`);
  return {
    onEpochEnd(record, ctx) {
      if (record.epoch % every === 0) {
        save({
          epoch: record.epoch,
          model: ctx.model.stateDict(),
          optimizer: ctx.optimizer.stateDict(),
          record,
        });
      }
    },
  };
}

/** Per-parameter gradient norms of the last batch of each epoch, for plots of gradient flow. */
export function gradNormTracker(): Callback & { rows: { epoch: number; name: string; norm: number }[] } {
  const rows: { epoch: number; name: string; norm: number }[] = [];
  return {
    rows,
    // The last batch's gradients stay in .grad until the next epoch's first zeroGrad (evaluation
    // does not touch them), so they are read once per epoch rather than after every batch — and
    // read asynchronously, as a GPU's memory must be (`fit` awaits onEpochEnd).
    async onEpochEnd(record, ctx) {
      for (const [name, p] of ctx.model.namedParameters()) {
        const g = peekGrad(p);
        rows.push({ epoch: record.epoch, name, norm: g ? Math.sqrt(sumOfSquares(await g.read())) : 0 });
      }
    },
    stateDict: () => ({ values: rows.map((r) => ({ ...r })) }),
    loadStateDict(s) {
      rows.length = 0;
      rows.push(...(s.values as typeof rows));
    },
  };
}
