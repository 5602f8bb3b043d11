/**
 * nn behaviour: module trees (names, train/eval, apply, state dicts and their errors), dropout
 * (mean preserved, eval identity, p = 0/1, seeded masks), DropConnect, LayerNorm/BatchNorm
 * statistics and running averages, and "every parameter of a small model receives a gradient".
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { nn, optim, Rng, type Tensor } from '../src/index.js';
import { expectClose } from './helpers.js';

const mlp = (g = new Rng(0)) =>
  new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(6, 5, { generator: g }),
    new nn.ReLU(),
    new nn.Dropout(0.5, new Rng(1)),
    new nn.Linear(5, 3, { generator: g }),
  );

describe('Module', () => {
  it('names parameters by path, as PyTorch', () => {
    const m = mlp();
    expect(m.namedParameters().map(([n, p]) => `${n}:${p.shape}`)).toEqual([
      '1.weight:5,6',
      '1.bias:5',
      '4.weight:3,5',
      '4.bias:3',
    ]);
    expect(m.parameters().length).toBe(4);
    expect(m.toString()).toContain('(1): Linear(in=6, out=5, bias=true)');
    expect(m.toString()).toContain('(3): Dropout(p=0.5)');
  });

  it('finds fields of custom modules and shares parameters once', () => {
    class Net extends nn.Module {
      encoder = new nn.Linear(4, 4);
      decoder = new nn.Linear(4, 4);
      scale = new nn.Parameter(k.ones([1]));
      constructor() {
        super();
        this.decoder = this.encoder; // tied weights
      }
      forward(x: Tensor): Tensor {
        return k.mul(this.decoder.forward(this.encoder.forward(x)), this.scale);
      }
    }
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['scale', 'encoder.weight', 'encoder.bias']);
  });

  it('train()/eval() reach every child; apply visits children first', () => {
    const m = mlp();
    m.eval();
    expect(m.namedModules().every(([, c]) => !c.training)).toBe(true);
    m.train();
    expect(m.at(3).training).toBe(true);
    const order: string[] = [];
    m.apply((c) => order.push(c.constructor.name));
    expect(order).toEqual(['Flatten', 'Linear', 'ReLU', 'Dropout', 'Linear', 'Sequential']);
  });

  it('stateDict round-trips into a fresh model', () => {
    const a = mlp(new Rng(1));
    const b = mlp(new Rng(2));
    const x = k.randn([4, 2, 3]);
    a.eval();
    b.eval();
    expect(a.forward(x).toArray()).not.toEqual(b.forward(x).toArray());
    b.loadStateDict(a.stateDict());
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
  });

  it('loadStateDict names missing, unexpected and mis-shaped keys', () => {
    const m = mlp();
    const sd = m.stateDict();
    const { '4.bias': _dropped, ...missing } = sd;
    expect(() => m.loadStateDict(missing)).toThrow(/missing keys: 4.bias/);
    expect(() => m.loadStateDict({ ...sd, extra: k.zeros([1]) })).toThrow(/unexpected keys: extra/);
    expect(() => m.loadStateDict({ ...sd, '1.bias': k.zeros([7]) })).toThrow(
      /1.bias: expected \[5\], got \[7\]/,
    );
    expect(() => m.loadStateDict({ ...sd, '1.bias': k.zeros([7]) })).toThrow(nn.StateDictError);
    expect(m.loadStateDict({ ...missing, extra: k.zeros([1]) }, { strict: false })).toEqual({
      missingKeys: ['4.bias'],
      unexpectedKeys: ['extra'],
    });
  });

  it('BatchNorm buffers are part of the state dict', () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    expect(Object.keys(m.stateDict())).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
    ]);
  });

  it('every parameter of a small model receives a gradient after one step', () => {
    const m = new nn.Sequential(
      new nn.Linear(4, 8),
      new nn.LayerNorm(8),
      new nn.PReLU(),
      new nn.Linear(8, 8, { bias: false }), // a bias before BatchNorm would be cancelled exactly
      new nn.BatchNorm1d(8),
      new nn.GELU(),
      new nn.DropConnectLinear(8, 3, { p: 0.2 }),
    );
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const before = m.parameters().map((p) => Array.from(p.readSync()));
    const loss = nn.F.crossEntropy(m.forward(k.randn([16, 4])), k.randint(0, 3, [16]));
    loss.backward();
    for (const [name, p] of m.namedParameters()) {
      expect(p.grad, `${name} has no gradient`).not.toBeNull();
      expect(k.sum(k.abs(p.grad as Tensor)).item(), `${name} has an all-zero gradient`).toBeGreaterThan(0);
    }
    opt.step();
    m.parameters().forEach((p, i) => {
      expect(Array.from(p.readSync())).not.toEqual(before[i]);
    });
  });
});

describe('Dropout', () => {
  const x = k.ones([200, 500]);
  it('preserves the mean (inverted scaling) and drops about p', () => {
    const y = nn.F.dropout(x, 0.3, true, new Rng(4));
    expect(k.mean(y).item()).toBeCloseTo(1, 2);
    const dropped = k.mean(k.cast(k.eq(y, 0), 'float32')).item();
    expect(dropped).toBeCloseTo(0.3, 2);
    expect(k.amax(y).item()).toBeCloseTo(1 / 0.7, 5);
  });
  it('is the identity in eval mode and for p = 0', () => {
    const d = new nn.Dropout(0.5);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(nn.F.dropout(x, 0)).toBe(x);
  });
  it('p = 1 gives zeros, never NaN', () => {
    const y = nn.F.dropout(k.randn([10, 10]), 1);
    expect(k.sum(k.abs(y)).item()).toBe(0);
    expect(k.sum(k.isnan(y)).item()).toBe(0);
  });
  it('same seed, same mask; different seed, different mask', () => {
    const a = new nn.Dropout(0.5, new Rng(9)).forward(x).toArray();
    const b = new nn.Dropout(0.5, new Rng(9)).forward(x).toArray();
    const c = new nn.Dropout(0.5, new Rng(10)).forward(x).toArray();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('gradients flow only through kept elements, scaled', () => {
    const xin = k.ones([1000], { requiresGrad: true });
    const y = nn.F.dropout(xin, 0.25, true, new Rng(3));
    k.sum(y).backward();
    expect((xin.grad as Tensor).toArray()).toEqual(y.detach().toArray());
  });
  it('rejects p outside [0, 1]', () => {
    expect(() => new nn.Dropout(1.5)).toThrow('Dropout: p must be in [0, 1], got 1.5');
  });
  it('AlphaDropout keeps zero mean and unit variance of SELU-normal inputs', () => {
    const z = k.randn([400, 500], { generator: new Rng(2), dtype: 'float64' });
    const y = nn.F.alphaDropout(z, 0.2, true, new Rng(5));
    expect(k.mean(y).item()).toBeCloseTo(0, 1);
    expect(k.std(y).item()).toBeCloseTo(1, 1);
    expect(nn.F.alphaDropout(z, 0.2, false)).toBe(z);
  });
  it('DropConnect drops weights in training only', () => {
    const l = new nn.DropConnectLinear(50, 40, { p: 0.5, maskGenerator: new Rng(1) });
    const xin = k.randn([3, 50]);
    const plain = nn.F.linear(xin, l.weight, l.bias);
    expect(l.forward(xin).toArray()).not.toEqual(plain.toArray());
    l.eval();
    expect(l.forward(xin).toArray()).toEqual(plain.toArray());
  });
});

describe('normalization', () => {
  it('LayerNorm gives zero mean and unit variance per row', () => {
    const y = new nn.LayerNorm(64).forward(k.mul(k.randn([5, 64], { dtype: 'float32' }), 7));
    expectClose(k.mean(y, 1), k.zeros([5], { dtype: 'float64' }), 0, 1e-5);
    expectClose(k.variance(y, 1, { correction: 0 }), k.ones([5], { dtype: 'float64' }), 1e-3, 1e-3);
  });
  it('BatchNorm1d: batch statistics in training, running averages in eval', () => {
    const bn = new nn.BatchNorm1d(3, { momentum: 0.5 });
    const x = k.add(k.mul(k.randn([200, 3], { generator: new Rng(8), dtype: 'float64' }), 2), 5);
    const y = bn.forward(x);
    expectClose(k.mean(y, 0), [0, 0, 0], 0, 1e-6);
    // running ← 0.5·0 + 0.5·batch mean ≈ 2.5
    expectClose(bn.buffer('running_mean'), k.mul(k.mean(x, 0), 0.5), 1e-5, 1e-5);
    bn.eval();
    const e = bn.forward(x);
    const rm = bn.buffer('running_mean');
    const rv = bn.buffer('running_var');
    expectClose(e, k.div(k.sub(x, rm), k.sqrt(k.add(rv, 1e-5))), 1e-5, 1e-5);
  });
  it('BatchNorm1d refuses one value per channel in training', () => {
    expect(() => new nn.BatchNorm1d(2).forward(k.ones([1, 2]))).toThrow(/more than 1 value per channel/);
  });
});

describe('losses', () => {
  it('per-sample weights scale each sample (importance weighting)', () => {
    const logits = k.randn([4, 3]);
    const y = k.tensor([0, 1, 2, 1], { dtype: 'int32' });
    const per = nn.F.crossEntropy(logits, y, { reduction: 'none' });
    const w = k.tensor([1, 0, 2, 0.5]);
    const weighted = nn.F.crossEntropy(logits, y, { sampleWeights: w });
    expect(weighted.item()).toBeCloseTo(k.mean(k.mul(per, w)).item(), 6);
  });
  it('penalties: ½‖w‖² and Σ|w|', () => {
    const w = k.tensor([3, -4]);
    expect(nn.F.l2Penalty(w).item()).toBe(12.5);
    expect(nn.F.l1Penalty([w, k.tensor([1])]).item()).toBe(8);
  });
  it('bad arguments are named', () => {
    const x = k.randn([2, 3]);
    expect(() => nn.F.crossEntropy(x, k.tensor([0, 1]))).toThrow(
      'crossEntropy: target must be class indices (int32 [2]) or probabilities (float [2,3]), got float32 [2]',
    );
    expect(() => nn.F.nllLoss(x, k.tensor([0, 1]))).toThrow(/class targets must be int32, got float32/);
    expect(() => nn.F.crossEntropy(x, k.tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(
      /target \[3\] must be \[N\]/,
    );
    expect(() => nn.F.mseLoss(x, k.zeros([3]))).toThrow(
      'mseLoss: input [2,3] and target [3] must have the same shape',
    );
    expect(() => nn.F.mseLoss(x, x, 'avg' as never)).toThrow(
      /reduction must be 'mean', 'sum' or 'none', got 'avg'/,
    );
    expect(() => nn.F.crossEntropy(x, k.tensor([0, 1], { dtype: 'int32' }), { labelSmoothing: 2 })).toThrow(
      /labelSmoothing must be in \[0, 1\], got 2/,
    );
    expect(() => new nn.Linear(0, 3)).toThrow('Linear: inFeatures must be a positive integer, got 0');
    expect(() => nn.F.linear(x, k.zeros([4, 5]))).toThrow(
      /linear: input \[2,3\] does not end with inFeatures=5/,
    );
  });
});

describe('module discovery and hooks', () => {
  class Blocks extends nn.Module {
    blocks = [new nn.Linear(4, 4), new nn.Linear(4, 2)];
    heads = new Map<string, nn.Module>([
      ['cls', new nn.Linear(2, 3)],
      ['reg', new nn.Linear(2, 1, { bias: false })],
    ]);
    nested = [[new nn.Linear(3, 3)], new nn.ModuleList([new nn.ReLU(), new nn.Linear(3, 1)])];
    scale = [new nn.Parameter(k.ones([1])), new nn.Parameter(k.zeros([1]))];
    forward(x: k.Tensor): k.Tensor {
      let y = x;
      for (const b of this.blocks) y = b.forward(y);
      return (this.heads.get('cls') as nn.Module).forward(y);
    }
  }

  it('finds every parameter in arrays, Maps, ModuleLists and nested arrays, in a stable order', () => {
    const m = new Blocks();
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'scale.0',
      'scale.1',
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.weight',
      'blocks.1.bias',
      'heads.cls.weight',
      'heads.cls.bias',
      'heads.reg.weight',
      'nested.0.0.weight',
      'nested.0.0.bias',
      'nested.1.1.weight',
      'nested.1.1.bias',
    ]);
    expect(new Blocks().namedParameters().map(([n]) => n)).toEqual(names);
    // Every reachable parameter is an optimizer's: none is lost.
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    expect(opt.groups[0].params.length).toBe(13);
    expect(Object.keys(m.stateDict())).toEqual(names);
  });

  it('ModuleList and ModuleDict name their modules by index and key', () => {
    const list = new nn.ModuleList([new nn.Linear(2, 2)]).push(new nn.Linear(2, 1));
    expect(list.length).toBe(2);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect([...list].length).toBe(2);
    expect(() => list.at(5)).toThrow('ModuleList.at: index 5 is out of range for 2 modules');
    const dict = new nn.ModuleDict({ enc: new nn.Linear(2, 2), dec: new nn.Linear(2, 2) });
    expect(dict.keys()).toEqual(['enc', 'dec']);
    expect(dict.namedParameters()[0][0]).toBe('enc.weight');
    expect(() => dict.get('x')).toThrow("ModuleDict: no module 'x' (keys: enc, dec)");
    expect(() => dict.set('a.b', new nn.ReLU())).toThrow(/key 'a.b' must be letters, digits/);
    expect(() => list.forward()).toThrow(/ModuleList has no forward/);
  });

  it('forward hooks see inputs and output, may replace the output, and are removable', () => {
    const lin = new nn.Linear(3, 2);
    const seen: number[][] = [];
    const h1 = lin.registerForwardHook((m, inputs, y) => {
      expect(m).toBe(lin);
      seen.push([...inputs[0].shape, ...y.shape]);
      return undefined;
    });
    const h2 = lin.registerForwardHook((_m, _i, y) => k.mul(y, 0));
    const x = k.ones([5, 3]);
    const model = new nn.Sequential(lin, new nn.ReLU());
    expect(Array.from(model.forward(x).readSync()).every((v) => v === 0)).toBe(true);
    expect(seen).toEqual([[5, 3, 5, 2]]);
    h2.remove();
    expect(Array.from(lin.forward(x).readSync()).some((v) => v !== 0)).toBe(true);
    h1.remove();
    h1.remove(); // twice is harmless
    expect(Object.hasOwn(lin, 'forward')).toBe(false);
    lin.forward(x);
    expect(seen.length).toBe(2);
  });
});

describe('nn.mlp', () => {
  it('builds every activation it names and refuses others, listing the allowed ones', () => {
    for (const activation of [
      'relu',
      'leaky_relu',
      'prelu',
      'elu',
      'gelu',
      'silu',
      'sigmoid',
      'tanh',
    ] as const) {
      const m = nn.mlp({ inputs: 3, hidden: [4], outputs: 2, activation });
      expect(m.forward(k.ones([2, 3])).shape).toEqual([2, 2]);
    }
    expect(() => nn.mlp({ inputs: 3, hidden: [4], outputs: 2, activation: 'softplus' as never })).toThrow(
      "mlp: unknown activation 'softplus' (allowed: relu, leaky_relu, prelu, elu, gelu, silu, sigmoid, tanh)",
    );
  });
});
