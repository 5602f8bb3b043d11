/**
 * Learning-rate schedulers with PyTorch's closed forms. Each is constructed on an optimizer (which
 * sets the epoch-0 learning rate) and advanced with `step()` once per epoch (or per batch for
 * OneCycle); the learning rate of every group is scaled from its initial value.
 * ReduceLROnPlateau steps on a metric instead.
 */
import { ValueError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import type { BaseOptions, Optimizer, ParamGroup } from './optimizer.js';
import { OneCycleOptionsSchema, PlateauOptionsSchema } from './options.js';

type AnyOptimizer = Optimizer<BaseOptions>;

/** Base class: `lrAt(t, group)` gives the learning rate of a group at step t. */
export abstract class LRScheduler {
  /** Number of `step()` calls so far. */
  lastEpoch = 0;

  constructor(readonly optimizer: AnyOptimizer) {}

  protected abstract lrAt(t: number, group: ParamGroup<BaseOptions>): number;

  /** Sets the learning rates for the current `lastEpoch`. */
  protected apply(): void {
    for (const g of this.optimizer.groups) g.options.lr = this.lrAt(this.lastEpoch, g);
  }

  /** Advances one epoch (or batch) and updates the learning rates. */
  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The current learning rate of each group. */
  getLastLr(): number[] {
    return this.optimizer.groups.map((g) => g.options.lr);
  }

  /** The scheduler's position (the learning rates themselves live in the optimizer's groups). */
  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.lastEpoch };
  }

  /** Restores a position from `stateDict` (restore the optimizer's state too, for its rates). */
  loadStateDict(s: { lastEpoch: number }): void {
    if (!Number.isInteger(s?.lastEpoch) || s.lastEpoch < 0)
      throw new ValueError(
        `${this.constructor.name}.loadStateDict: lastEpoch must be a non-negative integer, got ${s?.lastEpoch}`,
      );
    this.lastEpoch = s.lastEpoch;
  }
}

/** A scheduler given by a closed form lr(t, lr₀); it sets the epoch-0 rate when constructed. */
abstract class ClosedFormLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    private readonly form: (t: number, lr0: number) => number,
  ) {
    super(optimizer);
    this.apply();
  }
  protected lrAt(t: number, g: ParamGroup<BaseOptions>): number {
    return this.form(t, g.initialLr);
  }
}

function positiveInt(op: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new ValueError(`${op}: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** lr₀·γ^⌊t/stepSize⌋. */
export class StepLR extends ClosedFormLR {
  constructor(optimizer: AnyOptimizer, stepSize: number, gamma = 0.1) {
    positiveInt('StepLR', 'stepSize', stepSize);
    super(optimizer, (t, lr0) => lr0 * gamma ** Math.floor(t / stepSize));
  }
}

/** lr₀·γ^(number of milestones ≤ t). */
export class MultiStepLR extends ClosedFormLR {
  constructor(optimizer: AnyOptimizer, milestones: readonly number[], gamma = 0.1) {
    const sorted = [...milestones].sort((a, b) => a - b);
    super(optimizer, (t, lr0) => lr0 * gamma ** sorted.filter((m) => m <= t).length);
  }
}

/** lr₀·γ^t. */
export class ExponentialLR extends ClosedFormLR {
  constructor(optimizer: AnyOptimizer, gamma: number) {
    super(optimizer, (t, lr0) => lr0 * gamma ** t);
  }
}

/** η_min + (lr₀ − η_min)·(1 + cos(π·t/T_max))/2. */
export class CosineAnnealingLR extends ClosedFormLR {
  constructor(optimizer: AnyOptimizer, tMax: number, etaMin = 0) {
    positiveInt('CosineAnnealingLR', 'tMax', tMax);
    super(optimizer, (t, lr0) => etaMin + ((lr0 - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
  }
}

/** Linear warm-up: lr₀·(start + (end − start)·min(t, totalIters)/totalIters). PyTorch's LinearLR. */
export class LinearLR extends ClosedFormLR {
  constructor(optimizer: AnyOptimizer, startFactor = 1 / 3, endFactor = 1, totalIters = 5) {
    if (!(startFactor > 0 && startFactor <= 1))
      throw new ValueError(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1))
      throw new ValueError(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    positiveInt('LinearLR', 'totalIters', totalIters);
    super(
      optimizer,
      (t, lr0) => lr0 * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters),
    );
  }
}

/** Options of OneCycleLR (PyTorch's defaults). */
export interface OneCycleOptions {
  totalSteps: number;
  pctStart?: number;
  divFactor?: number;
  finalDivFactor?: number;
  /** Cycle momentum (SGD `momentum` or Adam `betas[0]`) inversely to the learning rate (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
}

/**
 * The 1cycle policy with cosine annealing: from maxLr/divFactor up to maxLr over pctStart of the
 * steps, then down to initial/finalDivFactor; momentum moves the opposite way. Step once per batch.
 */
export class OneCycleLR extends LRScheduler {
  private readonly o: Required<OneCycleOptions>;
  constructor(
    optimizer: AnyOptimizer,
    readonly maxLr: number,
    opts: OneCycleOptions,
  ) {
    checkOptions('OneCycleLR', OneCycleOptionsSchema, opts);
    super(optimizer);
    this.o = {
      pctStart: 0.3,
      divFactor: 25,
      finalDivFactor: 1e4,
      cycleMomentum: true,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
      ...opts,
    };
    positiveInt('OneCycleLR', 'totalSteps', this.o.totalSteps);
    if (!(this.o.pctStart > 0 && this.o.pctStart < 1))
      throw new ValueError(`OneCycleLR: pctStart must be in (0, 1), got ${this.o.pctStart}`);
    for (const g of optimizer.groups) g.initialLr = maxLr / this.o.divFactor;
    this.apply();
  }
  private phase(t: number): { start: number; end: number; pct: number; up: boolean } {
    const p1 = this.o.pctStart * this.o.totalSteps - 1;
    const last = this.o.totalSteps - 1;
    if (t <= p1) return { start: 0, end: p1, pct: t / p1, up: true };
    return { start: p1, end: last, pct: (t - p1) / (last - p1), up: false };
  }
  private static cos(start: number, end: number, pct: number): number {
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }
  protected lrAt(t: number, g: ParamGroup<BaseOptions>): number {
    if (t > this.o.totalSteps) {
      throw new ValueError(`OneCycleLR: stepped ${t} times, more than totalSteps=${this.o.totalSteps}`);
    }
    const initial = g.initialLr;
    const minLr = initial / this.o.finalDivFactor;
    const ph = this.phase(t);
    if (this.o.cycleMomentum) {
      const m = ph.up
        ? OneCycleLR.cos(this.o.maxMomentum, this.o.baseMomentum, ph.pct)
        : OneCycleLR.cos(this.o.baseMomentum, this.o.maxMomentum, ph.pct);
      const opts = g.options as BaseOptions & { momentum?: number; betas?: [number, number] };
      if (opts.betas) opts.betas = [m, opts.betas[1]];
      else if (opts.momentum !== undefined) opts.momentum = m;
    }
    return ph.up ? OneCycleLR.cos(initial, this.maxLr, ph.pct) : OneCycleLR.cos(this.maxLr, minLr, ph.pct);
  }
}

/** Options of ReduceLROnPlateau (PyTorch's defaults). */
export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

/** Multiplies the learning rate by `factor` when a metric stops improving for `patience` epochs. */
export class ReduceLROnPlateau {
  private readonly o: Required<PlateauOptions>;
  private best: number;
  private badEpochs = 0;
  private cooldownLeft = 0;

  constructor(
    readonly optimizer: AnyOptimizer,
    opts: PlateauOptions = {},
  ) {
    checkOptions('ReduceLROnPlateau', PlateauOptionsSchema, opts);
    this.o = {
      mode: 'min',
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      thresholdMode: 'rel',
      cooldown: 0,
      minLr: 0,
      eps: 1e-8,
      ...opts,
    };
    if (!(this.o.factor < 1 && this.o.factor > 0))
      throw new ValueError(`ReduceLROnPlateau: factor must be in (0, 1), got ${this.o.factor}`);
    if (this.o.mode !== 'min' && this.o.mode !== 'max')
      throw new ValueError(`ReduceLROnPlateau: mode must be 'min' or 'max', got '${this.o.mode}'`);
    this.best = this.o.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private better(a: number): boolean {
    const { mode, threshold, thresholdMode } = this.o;
    if (mode === 'min')
      return thresholdMode === 'rel' ? a < this.best * (1 - threshold) : a < this.best - threshold;
    return thresholdMode === 'rel' ? a > this.best * (1 + threshold) : a > this.best + threshold;
  }

  /** Records this epoch's metric; reduces the learning rates after `patience` epochs without improvement. */
  step(metric: number): void {
    if (this.better(metric)) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.o.patience) {
      for (const g of this.optimizer.groups) {
        const next = Math.max(g.options.lr * this.o.factor, this.o.minLr);
        if (g.options.lr - next > this.o.eps) g.options.lr = next;
      }
      this.cooldownLeft = this.o.cooldown;
      this.badEpochs = 0;
    }
  }

  /** What the metric history left: the best value, epochs without improvement, cooldown left. */
  stateDict(): { best: number; badEpochs: number; cooldownLeft: number } {
    return { best: this.best, badEpochs: this.badEpochs, cooldownLeft: this.cooldownLeft };
  }

  /** Restores `stateDict`'s values. */
  loadStateDict(s: { best: number; badEpochs: number; cooldownLeft: number }): void {
    if (typeof s?.best !== 'number' || !Number.isInteger(s.badEpochs) || !Number.isInteger(s.cooldownLeft))
      throw new ValueError(
        `ReduceLROnPlateau.loadStateDict: expected { best, badEpochs, cooldownLeft }, got ${JSON.stringify(s)}`,
      );
    this.best = s.best;
    this.badEpochs = s.badEpochs;
    this.cooldownLeft = s.cooldownLeft;
  }

  getLastLr(): number[] {
    return this.optimizer.groups.map((g) => g.options.lr);
  }
}
