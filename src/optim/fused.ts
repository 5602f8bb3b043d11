/**
 * Optimizers as one fused backend kernel per parameter (backend/optimizer.ts is the update's spec):
 * per parameter, a hyper-parameter vector `h` that a host step refreshes before every update (the
 * step count and its bias corrections, the group's current lr — which schedulers change — and the
 * other options), and state buffers that live on the backend as tensors of the parameter's shape.
 * The host step goes through `hostStep`, so a compiled training step replays it before the kernels;
 * options that change which state buffers exist (momentum turned on, AMSGrad, centering) after a
 * compiled step was traced are refused there, with the fix.
 */
import {
  DecayMode,
  H,
  H_LENGTH,
  hostStep,
  type OptimizerFamily,
  optimizerStep,
  stateNames,
} from '../ops/optimizer.js';
import { fromHost } from '../tensor/create.js';
import { peekGrad, type Tensor } from '../tensor/tensor.js';
import { arrayType } from '../util/dtype.js';
import {
  type BaseOptions,
  type LiveParam,
  Optimizer,
  OptimizerError,
  type SavedParamState,
} from './optimizer.js';
import { checkOptimizerOptions, type OptimizerName } from './options.js';

/** One parameter's state: step count, hyper-parameter vector, buffers on the backend. */
interface FusedState {
  step: number;
  readonly h: Float64Array;
  readonly buffers: Record<string, Tensor>;
}

/** An optimizer whose update is the backend's fused kernel of one family. */
export abstract class FusedOptimizer<O extends BaseOptions> extends Optimizer<O> {
  private readonly state = new Map<Tensor, FusedState>();

  /**
   * Checks `opts` (and each group's) against the optimizer's option schema, then takes `defaults`
   * overridden by `opts` as the optimizer's defaults.
   */
  constructor(
    name: OptimizerName,
    params: ConstructorParameters<typeof Optimizer<O>>[1],
    defaults: O,
    opts: Partial<O>,
    readonly family: OptimizerFamily,
  ) {
    checkOptimizerOptions(name, params, opts);
    super(name, params, { ...defaults, ...opts });
  }

  /**
   * Writes this step's hyper-parameters into h: lr, λ and the decay mode (H.lr … H.decayMode) and
   * the family's slots, from the group's options and the parameter's step count t (≥ 1).
   */
  protected abstract fill(h: Float64Array, o: O, t: number, momentumStarted: boolean): void;

  /** The initial value of a state buffer (Adagrad's accumulator starts at its option). */
  protected initialValue(_buffer: string, _o: O): number {
    return 0;
  }

  protected update(live: readonly LiveParam<O>[]): void {
    const states = live.map(({ p }) => this.stateFor(p));
    hostStep(() => {
      for (let i = 0; i < live.length; i++) {
        const s = states[i];
        s.step++;
        this.fill(s.h, live[i].group.options, s.step, 'momentumBuffer' in s.buffers);
      }
    });
    const names = states.map((s) => stateNames(this.family, s.h));
    live.forEach(({ p, group }, i) => {
      for (const n of names[i]) {
        if (states[i].buffers[n]) continue;
        const init = new (arrayType(p.dtype))(p.size) as Float32Array | Float64Array;
        init.fill(this.initialValue(n, group.options));
        states[i].buffers[n] = fromHost(init, p.shape, p.dtype);
      }
    });
    // At a replay of a compiled step: the buffers must be those the step was traced with.
    hostStep(() => {
      for (let i = 0; i < live.length; i++) {
        for (const n of stateNames(this.family, states[i].h))
          if (!states[i].buffers[n])
            throw new OptimizerError(
              `${this.name}: parameter ${live[i].index} now needs state '${n}', which the compiled step was traced without (an option such as momentum, amsgrad or centered changed): compile the step again`,
            );
      }
    });
    live.forEach(({ p }, i) => {
      const bufs = names[i].map((n) => states[i].buffers[n]);
      optimizerStep(this.family, p, peekGrad(p) as Tensor, bufs, states[i].h);
    });
  }

  private stateFor(p: Tensor): FusedState {
    let s = this.state.get(p);
    if (!s) {
      s = { step: 0, h: new Float64Array(H_LENGTH), buffers: {} };
      this.state.set(p, s);
    }
    return s;
  }

  protected saveState(p: Tensor): SavedParamState | undefined {
    const s = this.state.get(p);
    if (!s) return undefined;
    const buffers: Record<string, number[]> = {};
    for (const [k, t] of Object.entries(s.buffers))
      buffers[k] = Array.from(t.readSync() as ArrayLike<number>);
    return { step: s.step, buffers };
  }

  protected loadState(p: Tensor, saved: SavedParamState | undefined): void {
    if (!saved) {
      this.state.delete(p);
      return;
    }
    const s: FusedState = { step: saved.step, h: new Float64Array(H_LENGTH), buffers: {} };
    for (const [k, v] of Object.entries(saved.buffers))
      s.buffers[k] = fromHost((arrayType(p.dtype) as Float32ArrayConstructor).from(v), p.shape, p.dtype);
    this.state.set(p, s);
  }
}

/** Writes lr, λ and the decay mode for a family whose decay is coupled (before) or decoupled (after). */
export function fillDecay(h: Float64Array, o: BaseOptions, placement: 'coupled' | 'decoupled'): void {
  h[H.lr] = o.lr;
  h[H.decay] = o.weightDecay;
  const l1 = o.penalty === 'l1';
  const coupled = placement === 'coupled';
  h[H.decayMode] =
    o.weightDecay === 0
      ? DecayMode.none
      : l1 && o.proximal
        ? DecayMode.proximal
        : coupled
          ? l1
            ? DecayMode.coupledL1
            : DecayMode.coupledL2
          : l1
            ? DecayMode.decoupledL1
            : DecayMode.decoupledL2;
}
