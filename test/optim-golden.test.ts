/**
 * Optimizers and schedulers against PyTorch: 10 steps from identical states (W [3,4], b [3], a fixed
 * least-squares loss) in float64, every parameter after every step within 1e-6 relative, and the
 * learning rate each step used. Covers momentum/dampening/nesterov, coupled and decoupled weight
 * decay, AMSGrad, parameter groups with an undecayed bias, every scheduler, and gradient clipping.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { add, matmul, mean, optim, square, sub, type Tensor, tensor, transpose } from '../src/index.js';
import { decode, type Encoded } from './helpers.js';

interface Step {
  W: number[];
  b: number[];
  lrs: number[];
  loss: number;
  norm: number | null;
}
interface Golden {
  X: Encoded;
  Y: Encoded;
  W0: Encoded;
  b0: Encoded;
  optimizers: Record<string, Step[]>;
  schedulers: Record<string, Step[]>;
  clip: Step[];
}
const g = JSON.parse(readFileSync(new URL('./golden/optim.json', import.meta.url), 'utf8')) as Golden;
const X = decode(g.X);
const Y = decode(g.Y);

type MakeOpt = (W: Tensor, b: Tensor) => optim.Optimizer<optim.BaseOptions>;
type MakeSched = (o: optim.Optimizer<optim.BaseOptions>) => { step(metric?: number): void };

const optimizers: Record<string, MakeOpt> = {
  sgd: (W, b) => new optim.SGD([W, b], { lr: 0.1 }),
  'sgd momentum dampening': (W, b) => new optim.SGD([W, b], { lr: 0.1, momentum: 0.9, dampening: 0.1 }),
  'sgd nesterov': (W, b) => new optim.SGD([W, b], { lr: 0.1, momentum: 0.9, nesterov: true }),
  'sgd coupled weight decay': (W, b) => new optim.SGD([W, b], { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }),
  'sgd groups bias not decayed': (W, b) =>
    new optim.SGD(
      [
        { params: [W], weightDecay: 0.3 },
        { params: [b], weightDecay: 0, lr: 0.05 },
      ],
      { lr: 0.1, momentum: 0.5 },
    ),
  adam: (W, b) => new optim.Adam([W, b], { lr: 0.01 }),
  'adam amsgrad coupled decay': (W, b) =>
    new optim.Adam([W, b], { lr: 0.01, amsgrad: true, weightDecay: 0.1, betas: [0.8, 0.99] }),
  'adamw decoupled': (W, b) => new optim.AdamW([W, b], { lr: 0.01, weightDecay: 0.1 }),
  'adamw groups bias not decayed': (W, b) =>
    new optim.AdamW(
      [
        { params: [W], weightDecay: 0.5 },
        { params: [b], weightDecay: 0 },
      ],
      { lr: 0.02 },
    ),
  'adamw amsgrad': (W, b) => new optim.AdamW([W, b], { lr: 0.01, weightDecay: 0.05, amsgrad: true }),
  rmsprop: (W, b) => new optim.RMSprop([W, b], { lr: 0.01 }),
  'rmsprop centered momentum decay': (W, b) =>
    new optim.RMSprop([W, b], { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.1, alpha: 0.9 }),
  adagrad: (W, b) =>
    new optim.Adagrad([W, b], { lr: 0.1, lrDecay: 0.01, weightDecay: 0.1, initialAccumulatorValue: 0.1 }),
};

const sgdm: MakeOpt = (W, b) => new optim.SGD([W, b], { lr: 0.1, momentum: 0.9 });
const schedulers: Record<string, [MakeOpt, MakeSched, number[]?]> = {
  StepLR: [sgdm, (o) => new optim.StepLR(o, 3, 0.5)],
  MultiStepLR: [sgdm, (o) => new optim.MultiStepLR(o, [2, 5], 0.1)],
  ExponentialLR: [sgdm, (o) => new optim.ExponentialLR(o, 0.9)],
  CosineAnnealingLR: [sgdm, (o) => new optim.CosineAnnealingLR(o, 10, 0.001)],
  LinearLR: [sgdm, (o) => new optim.LinearLR(o, 0.25, 1, 4)],
  OneCycleLR: [sgdm, (o) => new optim.OneCycleLR(o, 0.5, { totalSteps: 10 })],
  'OneCycleLR adam': [
    (W, b) => new optim.Adam([W, b], { lr: 0.01 }),
    (o) => new optim.OneCycleLR(o, 0.05, { totalSteps: 10, pctStart: 0.4 }),
  ],
  ReduceLROnPlateau: [
    sgdm,
    (o) => new optim.ReduceLROnPlateau(o, { factor: 0.5, patience: 1 }),
    [1, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8, 0.9],
  ],
};

function run(makeOpt: MakeOpt, makeSched?: MakeSched, metrics?: number[], clip?: number): Step[] {
  const W = decode(g.W0).requiresGrad_();
  const b = decode(g.b0).requiresGrad_();
  const opt = makeOpt(W, b);
  const sched = makeSched?.(opt);
  const out: Step[] = [];
  for (let t = 0; t < 10; t++) {
    opt.zeroGrad();
    const loss = mean(square(sub(add(matmul(X, transpose(W)), b), Y)));
    loss.backward();
    const norm = clip === undefined ? null : optim.clipGradNorm_([W, b], clip);
    const lrs = opt.groups.map((gr) => gr.options.lr);
    opt.step();
    sched?.step(metrics?.[t]);
    out.push({ W: Array.from(W.readSync()), b: Array.from(b.readSync()), lrs, loss: loss.item(), norm });
  }
  return out;
}

function expectTrajectory(got: Step[], want: Step[]): void {
  const close = (a: number, e: number, what: string): void => {
    expect(Math.abs(a - e) <= 1e-6 * Math.abs(e) + 1e-12, `${what}: got ${a}, PyTorch ${e}`).toBe(true);
  };
  want.forEach((w, t) => {
    for (const [i, v] of w.W.entries()) close(got[t].W[i], v, `step ${t + 1} W[${i}]`);
    for (const [i, v] of w.b.entries()) close(got[t].b[i], v, `step ${t + 1} b[${i}]`);
    for (const [i, v] of w.lrs.entries()) close(got[t].lrs[i], v, `step ${t + 1} lr of group ${i}`);
    close(got[t].loss, w.loss, `step ${t + 1} loss`);
    if (w.norm !== null) close(got[t].norm as number, w.norm, `step ${t + 1} clip norm`);
  });
}

describe('optimizer trajectories match PyTorch (10 steps, float64, 1e-6 relative)', () => {
  it('covers every golden optimizer', () => {
    expect(Object.keys(g.optimizers).sort()).toEqual(Object.keys(optimizers).sort());
    expect(Object.keys(g.schedulers).sort()).toEqual(Object.keys(schedulers).sort());
  });
  for (const [name, make] of Object.entries(optimizers)) {
    it(name, () => expectTrajectory(run(make), g.optimizers[name]));
  }
  for (const [name, [make, sched, metrics]] of Object.entries(schedulers)) {
    it(`scheduler ${name}`, () => expectTrajectory(run(make, sched, metrics), g.schedulers[name]));
  }
  it('clipGradNorm_ returns the total norm and clips as PyTorch', () => {
    expectTrajectory(
      run((W, b) => new optim.SGD([W, b], { lr: 0.1 }), undefined, undefined, 0.5),
      g.clip,
    );
  });
  it('the trajectories move (the test can fail)', () => {
    const first = g.optimizers.sgd[0].W;
    expect(first).not.toEqual(Array.from(tensor(decode(g.W0)).readSync()));
  });
});
