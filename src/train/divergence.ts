/**
 * Divergence of a training run: the loss of a step is non-finite (NaN/±Inf) or has grown past
 * `factor` × the first step's loss. `DivergenceWatch` tells `fit` when that happens; at the first
 * diverged step it finds out why — parameters that an earlier update already made non-finite, an
 * input batch that holds NaN/Inf, or (by replaying the step's forward and backward in anomaly mode)
 * the first op that turned finite values into NaN/Inf. The replay restores everything it touched
 * (gradients, buffers, the generators of the model's random layers and the global one), so a run that
 * continues after a divergence follows the same trajectory as one that was never diagnosed.
 */
import { AnomalyError, detectAnomaly } from '../autograd/anomaly.js';
import type { Module } from '../nn/module.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import { formatNumber } from '../util/number.js';
import { modelGenerators } from './generators.js';

/** What `fit` does when the loss diverges. */
export interface DivergenceOptions {
  /** 'stop' (default): end training at the divergence; 'continue': record it and go on. */
  onNonFinite?: 'stop' | 'continue';
  /** Diverged steps tolerated before stopping (default 0: stop at the first). */
  patience?: number;
  /**
   * A finite loss above `factor` × the first step's loss counts as diverged too (default 1e6;
   * `Infinity` turns this rule off).
   */
  factor?: number;
}

/** Where a run diverged and why. */
export interface Divergence {
  epoch: number;
  /** Optimizer step of the run (1-based), and batch within the epoch. */
  step: number;
  batch: number;
  loss: number;
  reason: 'non-finite' | 'exploded';
  /** Loss of the run's first step, and of the step before the divergence (null at step 1). */
  firstLoss: number;
  previousLoss: number | null;
  /** One or two sentences: what went wrong where (the anomaly-mode finding when there is one). */
  diagnosis: string;
  /** The op found by the anomaly-mode replay. */
  anomaly?: { phase: 'forward' | 'backward'; op: string; inputShapes: number[][]; message: string };
  /** Parameters holding NaN/Inf when the divergence was seen. */
  nonFiniteParameters?: string[];
  /** Losses of the last steps up to and including the diverged one (at most 200). */
  recentLosses: { step: number; loss: number }[];
  /** Diverged steps seen so far (more than one with `patience` or 'continue'). */
  count: number;
}

const RECENT = 200;

/** A `DivergenceWatch`'s memory: the first and previous finite losses, the recent ones, the divergence. */
export interface DivergenceWatchState {
  first: number | null;
  previous: number | null;
  recent: { step: number; loss: number }[];
  divergence: Divergence | null;
}

function allFinite(t: Tensor): boolean {
  const d = t.readSync();
  let acc = 0;
  for (let i = 0; i < d.length; i++) acc += d[i] * 0; // NaN·0 and ±Inf·0 are NaN; finite·0 is 0
  return acc === 0;
}

/** Runs `fn`, then puts back the gradients, buffers and generator states it may have changed. */
function restoring<T>(model: Module, fn: () => T): T {
  const params = model.parameters();
  const grads = params.map((p) => p.grad);
  const buffers = Object.fromEntries(model.namedBuffers().map(([k, b]) => [k, tensor(b)]));
  const gens = modelGenerators(model).map(([, g]) => [g, g.getState()] as const);
  try {
    return fn();
  } finally {
    params.forEach((p, i) => {
      p.grad = grads[i];
    });
    if (Object.keys(buffers).length) model.loadStateDict(buffers, { strict: false });
    for (const [g, s] of gens) g.setState(s);
  }
}

/** Watches step losses; `check` says whether a step diverged and diagnoses the first one. */
export class DivergenceWatch {
  readonly action: 'stop' | 'continue';
  readonly patience: number;
  readonly factor: number;
  /** The first divergence (its `count` grows with later diverged steps). */
  divergence: Divergence | null = null;
  private first: number | null = null;
  private previous: number | null = null;
  private readonly recent: { step: number; loss: number }[] = [];

  constructor(opts: DivergenceOptions = {}) {
    this.action = opts.onNonFinite ?? 'stop';
    if (this.action !== 'stop' && this.action !== 'continue')
      throw new ValueError(
        `fit: divergence.onNonFinite must be 'stop' or 'continue', got '${opts.onNonFinite}'`,
      );
    this.patience = opts.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0)
      throw new ValueError(`fit: divergence.patience must be a non-negative integer, got ${opts.patience}`);
    this.factor = opts.factor ?? 1e6;
    if (!(this.factor > 1))
      throw new ValueError(`fit: divergence.factor must be > 1 (Infinity turns it off), got ${opts.factor}`);
  }

  /** What the watch has seen so far (for checkpoints). */
  stateDict(): DivergenceWatchState {
    return {
      first: this.first,
      previous: this.previous,
      recent: this.recent.map((r) => ({ ...r })),
      divergence: this.divergence,
    };
  }

  /** Restores `stateDict`'s values. */
  loadStateDict(s: DivergenceWatchState): void {
    this.first = s.first;
    this.previous = s.previous;
    this.recent.length = 0;
    this.recent.push(...s.recent.map((r) => ({ ...r })));
    this.divergence = s.divergence;
  }

  /**
   * Records the loss of a step (after backward, before the optimizer step); returns true when the
   * run should stop here. At the first diverged step it diagnoses the cause, replaying the step
   * (`model` on batch `x`, `y` with `loss`) in anomaly mode when no parameter is already non-finite.
   */
  check(
    lossValue: number,
    at: { epoch: number; step: number; batch: number },
    replay: ReplayParts | (() => ReplayParts),
  ): boolean {
    this.recent.push({ step: at.step, loss: lossValue });
    if (this.recent.length > RECENT) this.recent.shift();
    const finite = Number.isFinite(lossValue);
    if (this.first === null && finite) this.first = lossValue;
    const exploded =
      finite && this.first !== null && Math.abs(lossValue) > this.factor * Math.abs(this.first);
    const previous = this.previous;
    if (finite) this.previous = lossValue;
    if (finite && !exploded) return false;
    if (this.divergence) {
      this.divergence.count++;
      return this.action === 'stop' && this.divergence.count > this.patience;
    }
    const base = {
      ...at,
      loss: lossValue,
      firstLoss: this.first ?? lossValue,
      previousLoss: previous,
      recentLosses: [...this.recent],
      count: 1,
    };
    this.divergence = exploded
      ? {
          ...base,
          reason: 'exploded',
          diagnosis: `the loss grew from ${fmt(base.firstLoss)} at step 1 to ${fmt(lossValue)} (over ${fmt(this.factor)}×): the updates are too large for this model`,
        }
      : {
          ...base,
          reason: 'non-finite',
          ...diagnoseNonFinite(typeof replay === 'function' ? replay() : replay, previous),
        };
    return this.action === 'stop' && this.patience === 0;
  }
}

const fmt = (x: number) => formatNumber(x, 4, 'significant');

/** What an anomaly-mode replay of a step needs: the model, the batch and the loss. */
export interface ReplayParts {
  model: Module;
  x: Tensor;
  y: Tensor;
  loss: (o: Tensor, t: Tensor) => Tensor;
}

function diagnoseNonFinite(
  r: ReplayParts,
  previous: number | null,
): Pick<Divergence, 'diagnosis' | 'anomaly' | 'nonFiniteParameters'> {
  const bad = r.model
    .namedParameters()
    .filter(([, p]) => !allFinite(p))
    .map(([n]) => n);
  if (bad.length)
    return {
      nonFiniteParameters: bad,
      diagnosis: `parameters ${bad.join(', ')} already held NaN/Inf before this step: the previous update made them so${previous === null ? '' : ` (the loss before it was ${fmt(previous)})`} — the learning rate times the gradient overflowed, or the gradient itself was non-finite`,
    };
  if (!allFinite(r.x)) return { diagnosis: 'the input batch itself holds NaN/Inf values' };
  let replayed = Number.NaN;
  try {
    replayed = restoring(r.model, () =>
      detectAnomaly(() => {
        for (const p of r.model.parameters()) p.grad = null;
        const l = r.loss(r.model.forward(r.x), r.y);
        l.backward();
        return l.item();
      }),
    );
  } catch (e) {
    if (!(e instanceof AnomalyError)) throw e;
    return {
      anomaly: { phase: e.phase, op: e.op, inputShapes: e.inputShapes, message: e.message },
      diagnosis: `the first op to turn finite values into NaN/Inf was the ${e.phase} of '${e.op}': it ${e.message.replace(/^anomaly: \w+ of '[^']*' /, '')}`,
    };
  }
  return {
    diagnosis: Number.isFinite(replayed)
      ? `a replay of the step gave a finite loss (${fmt(replayed)}): the non-finite value did not come from the model or the loss function`
      : 'no op turned finite values into NaN/Inf on a replay of the step in anomaly mode: the NaN/Inf entered as a constant or a tensor made outside the graph (in a custom loss?)',
  };
}
