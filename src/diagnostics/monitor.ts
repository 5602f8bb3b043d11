/**
 * Training diagnostics. `Diagnostics` watches a model: every `every` steps it records, per named
 * parameter, the gradient norm, the weight norm and the update/weight ratio of the next step, and,
 * per layer output, the mean and standard deviation, the fraction of saturated sigmoid/tanh units and
 * of dead ReLU units (zero for the whole batch). From these it raises alarms — vanishing or exploding
 * gradients, NaN/Inf, dead or saturated units, parameters without gradient, and (per epoch) a
 * validation loss rising while the training loss falls. Use it as a `fit()` callback or call
 * `beginStep`, `afterBackward` and `afterStep` around your own training step. Layer outputs are
 * captured by a forward tap on each leaf module while attached (`Module.registerForwardTap`: a
 * compiled step traced with them replays them, so sampled steps run as plans too); between samples
 * nothing is computed, so the default rate costs little.
 */
import { noGrad } from '../autograd/mode.js';
import type { HookHandle, Module } from '../nn/module.js';
import { HostCopies } from '../tensor/hostCopies.js';
import { peekGrad } from '../tensor/tensor.js';
import type { Callback, EpochRecord } from '../train/fit.js';
import { ValueError } from '../util/errors.js';
import { sumOfSquares } from '../util/hostSums.js';
import { type Alarm, type AlarmKind, alarm } from './alarms.js';

/** Options of `Diagnostics` (all thresholds configurable). */
export interface DiagnosticsOptions {
  /** Sample every N optimizer steps (default 25; the first step is always sampled). */
  every?: number;
  /** Vanishing: a weight's gradient norm below this fraction of the last layer's (default 1e-2). */
  vanishingFraction?: number;
  /** Exploding: total gradient norm above this (default 100)… */
  explodingNorm?: number;
  /** …or growing by more than this factor between consecutive samples (default 100). */
  explodingGrowth?: number;
  /** Dead ReLU units: alarm when more than this fraction of a layer's units are dead (default 0.5). */
  deadFraction?: number;
  /** Saturation: alarm when more than this fraction of sigmoid/tanh outputs are saturated (default 0.5). */
  saturatedFraction?: number;
  /** Overfitting: this many consecutive epochs of rising validation loss and falling training loss (default 3). */
  overfitEpochs?: number;
  /** Keep values of each layer's output at sampled steps for histograms (default 2000 values per layer). */
  histogramValues?: number;
  /** Called for each new alarm (e.g. the CLI prints a warning). */
  onAlarm?: (a: Alarm) => void;
}

/** Statistics of one parameter at a sampled step. */
export interface ParamStats {
  gradNorm: number | null;
  weightNorm: number;
  /** ‖Δw‖/‖w‖ of the step after the sample (null until known). */
  updateRatio: number | null;
}

/** Statistics of one layer's output at a sampled step. */
export interface LayerStats {
  type: string;
  mean: number;
  std: number;
  /** Fraction of units (columns) that are zero for every sample (ReLU layers). */
  dead?: number;
  /** Fraction of outputs within 0.01 of the sigmoid/tanh limits. */
  saturated?: number;
}

/** Everything recorded at one sampled step. */
export interface Sample {
  epoch: number;
  step: number;
  loss: number;
  totalGradNorm: number;
  params: Record<string, ParamStats>;
  layers: Record<string, LayerStats>;
}

function hasNonFinite(d: ArrayLike<number>): boolean {
  let acc = 0;
  for (let i = 0; i < d.length; i++) acc += d[i] * 0; // NaN·0 and ±Inf·0 are NaN; finite·0 is 0
  return acc !== 0 || Number.isNaN(acc);
}

function layerStats(type: string, d: ArrayLike<number>, shape: readonly number[]): LayerStats {
  const n = d.length;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    sum += d[i];
    sq += d[i] * d[i];
  }
  const mean = sum / Math.max(n, 1);
  const st: LayerStats = { type, mean, std: Math.sqrt(Math.max(sq / Math.max(n, 1) - mean * mean, 0)) };
  if (type === 'ReLU' && shape.length >= 2) {
    const units = shape[shape.length - 1];
    const alive = new Uint8Array(units);
    for (let i = 0; i < n; i++) if (d[i] !== 0) alive[i % units] = 1;
    let dead = 0;
    for (let u = 0; u < units; u++) if (!alive[u]) dead++;
    st.dead = dead / units;
  }
  if (type === 'Sigmoid' || type === 'Tanh') {
    let sat = 0;
    for (let i = 0; i < n; i++) {
      const v = d[i];
      if (type === 'Sigmoid' ? v < 0.01 || v > 0.99 : Math.abs(v) > 0.99) sat++;
    }
    st.saturated = sat / Math.max(n, 1);
  }
  return st;
}

/** Watches a model during training and raises alarms. */
export class Diagnostics {
  readonly samples: Sample[] = [];
  readonly alarms: Alarm[] = [];
  /** Sampled output values per layer (for histograms), from the latest sample. */
  readonly histograms: Record<string, number[]> = {};
  private readonly o: Required<Omit<DiagnosticsOptions, 'onAlarm'>> & Pick<DiagnosticsOptions, 'onAlarm'>;
  private readonly raised = new Set<string>();
  private hooks: HookHandle[] = [];
  private capturing = false;
  private current: Record<string, LayerStats> = {};
  private step = 0;
  private epoch = 1;
  private prevWeights: Map<string, ArrayLike<number>> | null = null;
  private lastSample: Sample | null = null;
  private readonly epochs: EpochRecord[] = [];
  /** Host copies of gradients, weights and layer outputs, reused at every sample. */
  private readonly copies = new HostCopies();

  constructor(
    readonly model: Module,
    opts: DiagnosticsOptions = {},
  ) {
    this.o = {
      every: 25,
      vanishingFraction: 1e-2,
      explodingNorm: 100,
      explodingGrowth: 100,
      deadFraction: 0.5,
      saturatedFraction: 0.5,
      overfitEpochs: 3,
      histogramValues: 2000,
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as DiagnosticsOptions),
    };
    if (!Number.isInteger(this.o.every) || this.o.every < 1)
      throw new ValueError(`Diagnostics: every must be a positive integer, got ${this.o.every}`);
  }

  /**
   * A forward tap on each leaf module captures its output — put on for a sampled step only: the
   * sampled steps run a plan of their own, traced with the taps (`observesStep`), the others a plan
   * without them.
   */
  private attach(): void {
    if (this.hooks.length) return;
    for (const [name, m] of this.model.namedModules()) {
      if (name === '' || m.namedChildren().length > 0) continue;
      const type = m.constructor.name;
      const label = `${name} (${type})`;
      const hook = m.registerForwardTap((_m, y) => {
        if (!this.capturing) return;
        noGrad(() => {
          const d = this.copies.read(`output:${label}`, y);
          this.current[label] = layerStats(type, d, y.shape);
          if (this.o.histogramValues > 0) {
            const stride = Math.max(1, Math.floor(d.length / this.o.histogramValues));
            const vals: number[] = [];
            for (let i = 0; i < d.length; i += stride) vals.push(d[i]);
            this.histograms[label] = vals;
          }
        });
      });
      this.hooks.push(hook);
    }
  }

  /** Stops capturing layer outputs (removes the hooks). */
  detach(): void {
    for (const h of this.hooks) h.remove();
    this.hooks = [];
  }

  private raise(kind: AlarmKind, where: string[], message: string): void {
    const key = `${kind}:${where.join(',')}`;
    if (this.raised.has(key)) return;
    this.raised.add(key);
    const a = alarm(kind, where, message, this.epoch, this.step);
    this.alarms.push(a);
    this.o.onAlarm?.(a);
  }

  /** Call before the forward pass of a step: sampled steps capture layer outputs. */
  beginStep(epoch = this.epoch): void {
    this.epoch = epoch;
    this.step++;
    this.capturing = this.step === 1 || this.step % this.o.every === 0;
    this.current = {};
    if (this.capturing) this.attach();
  }

  /** Whether the current step is sampled (its forward pass must run eagerly, hooks on). */
  get sampling(): boolean {
    return this.capturing;
  }

  /** Call after backward (gradients present), before the optimizer step. */
  afterBackward(loss: number): void {
    const params = this.model.namedParameters();
    if (!Number.isFinite(loss)) this.raise('non-finite', ['loss'], `the loss is ${loss}`);
    // The loss is checked every step (free); gradients at sampled steps (a NaN gradient makes the
    // weights, and so the next loss, non-finite anyway). Scanning every gradient on every step cost
    // ~4% of a wasm training step.
    if (!this.capturing) return;
    // One host read per gradient and per weight: the gradient's norm and its NaN/Inf check, the
    // weight's norm and the copy afterStep compares the updated weights with.
    const bad: string[] = [];
    const stats: Record<string, ParamStats> = {};
    const prev = new Map<string, ArrayLike<number>>();
    let total = 0;
    for (const [name, p] of params) {
      const pg = peekGrad(p);
      let g: number | null = null;
      if (pg) {
        const d = this.copies.read(`scratch:${name}`, pg);
        const sq = sumOfSquares(d);
        // A NaN/Inf element makes the sum NaN/Inf; a sum that overflows on finite values is scanned.
        if (!Number.isFinite(sq) && hasNonFinite(d)) bad.push(name);
        g = Math.sqrt(sq);
        if (Number.isFinite(g)) total += g * g;
      }
      const w = this.copies.read(`before:${name}`, p);
      prev.set(name, w);
      stats[name] = { gradNorm: g, weightNorm: Math.sqrt(sumOfSquares(w)), updateRatio: null };
    }
    if (bad.length) this.raise('non-finite', bad, `gradients of ${bad.join(', ')} contain NaN/Inf`);
    total = Math.sqrt(total);
    const sample: Sample = {
      epoch: this.epoch,
      step: this.step,
      loss,
      totalGradNorm: total,
      params: stats,
      layers: this.current,
    };
    this.check(
      sample,
      params.map(([n, p]) => [n, p.requiresGrad, p.ndim] as const),
    );
    this.samples.push(sample);
    this.lastSample = sample;
    this.prevWeights = prev;
    this.capturing = false;
    this.detach();
  }

  /** Call after the optimizer step: fills in the update/weight ratio of the last sample. */
  afterStep(): void {
    if (!this.prevWeights || !this.lastSample) return;
    for (const [name, p] of this.model.namedParameters()) {
      const before = this.prevWeights.get(name);
      if (!before) continue;
      const now = this.copies.read(`scratch:${name}`, p);
      let du = 0;
      let w = 0;
      for (let i = 0; i < now.length; i++) {
        du += (now[i] - before[i]) ** 2;
        w += before[i] ** 2;
      }
      const st = this.lastSample.params[name];
      if (st) st.updateRatio = w > 0 ? Math.sqrt(du / w) : null;
    }
    this.prevWeights = null;
  }

  private check(s: Sample, params: readonly (readonly [string, boolean, number])[]): void {
    const missing = params.filter(([n, req]) => req && s.params[n].gradNorm === null).map(([n]) => n);
    if (missing.length) this.raise('no-gradient', missing, `${missing.join(', ')} received no gradient`);
    const weights = params
      .filter(([n, , rank]) => rank >= 2 && s.params[n].gradNorm !== null)
      .map(([n]) => n);
    if (weights.length >= 2) {
      const last = s.params[weights[weights.length - 1]].gradNorm as number;
      const small = weights
        .slice(0, -1)
        .filter((n) => (s.params[n].gradNorm as number) < this.o.vanishingFraction * last);
      if (small.length && last > 0) {
        const first = s.params[small[0]].gradNorm as number;
        this.raise(
          'vanishing',
          small,
          `gradient norms of ${small.join(', ')} are below ${this.o.vanishingFraction} × the last layer's (${first.toExponential(2)} vs ${last.toExponential(2)})`,
        );
      }
    }
    const prev = this.samples[this.samples.length - 1];
    if (s.totalGradNorm > this.o.explodingNorm) {
      const top = Object.entries(s.params).sort((a, b) => (b[1].gradNorm ?? 0) - (a[1].gradNorm ?? 0))[0][0];
      this.raise(
        'exploding',
        [top],
        `total gradient norm ${s.totalGradNorm.toExponential(2)} exceeds ${this.o.explodingNorm} (largest: ${top})`,
      );
    } else if (
      prev &&
      prev.totalGradNorm > 1e-12 &&
      s.totalGradNorm > 1 &&
      s.totalGradNorm / prev.totalGradNorm > this.o.explodingGrowth
    ) {
      this.raise(
        'exploding',
        ['total'],
        `total gradient norm grew ${(s.totalGradNorm / prev.totalGradNorm).toExponential(2)}× since step ${prev.step}`,
      );
    }
    for (const [layer, st] of Object.entries(s.layers)) {
      if (st.dead !== undefined && st.dead > this.o.deadFraction)
        this.raise(
          'dead-units',
          [layer],
          `${(st.dead * 100).toFixed(0)}% of the units of ${layer} output 0 for the whole batch`,
        );
      if (st.saturated !== undefined && st.saturated > this.o.saturatedFraction)
        this.raise(
          'saturated',
          [layer],
          `${(st.saturated * 100).toFixed(0)}% of the outputs of ${layer} are saturated`,
        );
    }
  }

  /** Call at the end of an epoch with its record (overfitting check). */
  endEpoch(record: EpochRecord): void {
    this.epochs.push(record);
    const k = this.o.overfitEpochs;
    const recent = this.epochs.slice(-(k + 1));
    if (recent.length < k + 1 || recent.some((r) => r.valLoss === undefined)) return;
    let rising = true;
    for (let i = 1; i < recent.length; i++) {
      if (
        !(
          (recent[i].valLoss as number) > (recent[i - 1].valLoss as number) &&
          recent[i].trainLoss < recent[i - 1].trainLoss
        )
      )
        rising = false;
    }
    if (rising) {
      const from = recent[0];
      const to = recent[recent.length - 1];
      this.raise(
        'overfitting',
        ['validation loss'],
        `validation loss rose for ${k} epochs (${(from.valLoss as number).toFixed(4)} → ${(to.valLoss as number).toFixed(4)}) while training loss fell (${from.trainLoss.toFixed(4)} → ${to.trainLoss.toFixed(4)})`,
      );
    }
  }

  /** A `fit()` callback driving this monitor. */
  callback(): Callback {
    return {
      onBatchBegin: (info) => this.beginStep(info.epoch),
      observesStep: () => this.capturing,
      onBackward: (loss) => this.afterBackward(loss.item()),
      onBatchEnd: () => this.afterStep(),
      onEpochEnd: (r) => {
        this.endEpoch(r);
      },
      onTrainEnd: () => this.detach(),
    };
  }
}
