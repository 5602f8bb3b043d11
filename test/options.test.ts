/**
 * Library options checked at the boundary (src/util/options.ts and each entry point's schema): a
 * bad value is a ValueError naming the entry point, the option, the value and what is allowed; an
 * unknown name (a typo such as `weight_decay` or `weightdecay`) is refused with the closest known
 * name; `progress: false` trains without progress. Every error thrown is a KeelError.
 */
import { describe, expect, it } from 'vitest';
import {
  compile,
  data,
  KeelError,
  nn,
  optim,
  Rng,
  shift,
  type Tensor,
  train,
  ValueError,
} from '../src/index.js';
import { closestName } from '../src/util/options.js';

const model = () => nn.mlp({ inputs: 2, hidden: [8], outputs: 2, generator: new Rng(0) });
const moons = () => {
  const m = data.moons(64);
  return new data.DataLoader(new data.TensorDataset(m.X, m.y), { batchSize: 16 });
};

/** The error `f` throws (which must be a ValueError, so a KeelError). */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValueError);
    expect(e).toBeInstanceOf(KeelError);
    return (e as Error).message;
  }
  throw new Error('nothing was thrown');
}

async function rejected(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ValueError);
    return (e as Error).message;
  }
  throw new Error('nothing was thrown');
}

describe('option objects at the boundary', () => {
  it('closest names: case, _ and - aside, then a small edit distance; nothing for an unrelated name', () => {
    const known = ['weightDecay', 'momentum', 'nesterov', 'lr'];
    expect(closestName('weight_decay', known)).toBe('weightDecay');
    expect(closestName('weightdecay', known)).toBe('weightDecay');
    expect(closestName('momentun', known)).toBe('momentum');
    expect(closestName('batteries', known)).toBeUndefined();
  });

  it('fit: progress false trains without progress; typos and bad values are named', async () => {
    const m = model();
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const h = await train.fit({ model: m, optimizer: opt, train: moons(), epochs: 1, progress: false });
    expect(h.epochs).toHaveLength(1);
    const base = { model: m, optimizer: opt, train: moons(), epochs: 1 };
    expect(await rejected(train.fit({ ...base, weight_decay: 0.1 } as never))).toBe(
      "fit: unknown option 'weight_decay'; the options are model, optimizer, train, epochs, loss, weightedLoss, validation, test, callbacks, clipGradNorm, progress, divergence, signal, compile, readEvery, checkpoint, resume",
    );
    expect(await rejected(train.fit({ ...base, epoch: 3 } as never))).toMatch(
      /^fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/,
    );
    expect(await rejected(train.fit({ ...base, epochs: -1 }))).toBe(
      'fit: epochs must be a non-negative integer, got -1',
    );
    expect(await rejected(train.fit({ ...base, progress: true } as never))).toBe(
      'fit: progress must be false (no progress) or an object with epochStart, batch and epochEnd methods, got true',
    );
    expect(await rejected(train.fit({ ...base, clipGradNorm: 0 }))).toBe(
      'fit: clipGradNorm must be a positive number, got 0',
    );
    expect(await rejected(train.fit({ ...base, divergence: { onNonfinite: 'stop' } } as never))).toMatch(
      /^fit: divergence: unknown option 'onNonfinite' \(did you mean 'onNonFinite'\?\)/,
    );
    expect(await rejected(train.fit({ ...base, checkpoint: { save: () => {}, every: 0 } }))).toBe(
      'fit: checkpoint.every must be a positive integer, got 0',
    );
    expect(await rejected(train.fit({ ...base, train: [1, 2] } as never))).toMatch(
      /^fit: train must be a DataLoader \(an object with order\(\) and batches\(\)\), got \[1, 2\]/,
    );
    expect(await rejected(train.fit(undefined as never))).toBe(
      'fit: the options must be an object, got undefined',
    );
    expect(
      thrown(() => train.evaluate(m, moons(), undefined, undefined, { compiled: true } as never)),
    ).toMatch(/^evaluate: unknown option 'compiled' \(did you mean 'compile'\?\)/);
  });

  it('DataLoader, optimizers and schedulers', () => {
    const ds = new data.TensorDataset(data.moons(8).X, data.moons(8).y);
    expect(thrown(() => new data.DataLoader(ds, { batch_size: 4 } as never))).toMatch(
      /^DataLoader: unknown option 'batch_size' \(did you mean 'batchSize'\?\)/,
    );
    expect(thrown(() => new data.DataLoader(ds, { shuffle: 'yes' } as never))).toBe(
      "DataLoader: shuffle must be true or false, got 'yes'",
    );
    const p = model().parameters();
    for (const typo of ['weight_decay', 'weightdecay', 'WeightDecay'])
      expect(thrown(() => new optim.SGD(p, { lr: 0.1, [typo]: 0.01 } as never))).toMatch(
        new RegExp(`^SGD: unknown option '${typo}' \\(did you mean 'weightDecay'\\?\\)`),
      );
    expect(thrown(() => new optim.SGD(p, { lr: 0.1, nesterov: 'yes' } as never))).toBe(
      "SGD: nesterov must be true or false, got 'yes'",
    );
    expect(thrown(() => new optim.AdamW(p, { beta: [0.9, 0.99] } as never))).toMatch(
      /^AdamW: unknown option 'beta' \(did you mean 'betas'\?\)/,
    );
    expect(thrown(() => new optim.Adam(p, { amsgrad: 1 } as never))).toBe(
      'Adam: amsgrad must be true or false, got 1',
    );
    expect(thrown(() => new optim.RMSprop(p, { alpha: 1.5 }))).toBe(
      'RMSprop: alpha must be a number in [0, 1), got 1.5',
    );
    expect(thrown(() => new optim.Adagrad(p, { lr_decay: 0.1 } as never))).toMatch(
      /^Adagrad: unknown option 'lr_decay' \(did you mean 'lrDecay'\?\)/,
    );
    expect(thrown(() => new optim.AdamW([{ params: p, weight_decay: 0 }] as never, { lr: 1e-3 }))).toMatch(
      /^AdamW \(parameter group 0\): unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/,
    );
    const sgd = new optim.SGD(p, { lr: 0.1, momentum: 0.9 });
    expect(thrown(() => new optim.OneCycleLR(sgd, 1, { total_steps: 10 } as never))).toMatch(
      /^OneCycleLR: unknown option 'total_steps' \(did you mean 'totalSteps'\?\)/,
    );
    expect(thrown(() => new optim.OneCycleLR(sgd, 1, {} as never))).toBe(
      'OneCycleLR: totalSteps is required (a positive integer), got none',
    );
    expect(thrown(() => new optim.ReduceLROnPlateau(sgd, { mode: 'up' } as never))).toBe(
      "ReduceLROnPlateau: mode must be 'min' or 'max', got 'up'",
    );
  });

  it('compile and TrainStep', () => {
    const f = (x: Tensor) => x.mul(2);
    expect(thrown(() => compile(f, { fallback: 'never' } as never))).toBe(
      "compile: fallback must be 'throw' or 'eager', got 'never'",
    );
    expect(thrown(() => compile(f, { cachesize: 4 } as never))).toMatch(
      /^compile: unknown option 'cachesize' \(did you mean 'cacheSize'\?\)/,
    );
    expect(thrown(() => compile(f, { cacheSize: 0 }))).toBe(
      'compile: cacheSize must be a positive integer, got 0',
    );
    expect(thrown(() => compile(f, { onFallback: 'log' } as never))).toBe(
      "compile: onFallback must be a function (reason) => void, got 'log'",
    );
    const m = model();
    const optimizer = new optim.SGD(m.parameters(), { lr: 0.1 });
    expect(
      thrown(() => new train.TrainStep({ model: m, optimizer, losses: {}, clipGradnorm: 1 } as never)),
    ).toMatch(/^TrainStep: unknown option 'clipGradnorm' \(did you mean 'clipGradNorm'\?\)/);
  });

  it('the shift entry points', async () => {
    const g = new Rng(0);
    const s = shift.toScores('test', [
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
    ]);
    expect(thrown(() => shift.mmdTest(s, s, g, { permutation: 10 } as never))).toMatch(
      /^mmdTest: unknown option 'permutation' \(did you mean 'permutations'\?\)/,
    );
    expect(thrown(() => shift.mmdTest(s, s, g, { alpha: 2 }))).toBe(
      'mmdTest: alpha must be a number in (0, 1), got 2',
    );
    expect(await rejected(shift.estimateImportanceWeights(s, s, g, { fold: 2 } as never))).toMatch(
      /^estimateImportanceWeights: unknown option 'fold' \(did you mean 'folds'\?\)/,
    );
    expect(
      await rejected(
        shift.estimateImportanceWeights(s, s, g, { classifier: { standardise: 'none' } } as never),
      ),
    ).toMatch(
      /^estimateImportanceWeights: classifier: unknown option 'standardise' \(did you mean 'standardize'\?\)/,
    );
    expect(thrown(() => shift.emLabelShift({ calibration: 'platt' } as never))).toBe(
      "emLabelShift: calibration must be 'bcts', 'ts' or 'none', got 'platt'",
    );
    expect(thrown(() => shift.rlls({ penalty: -1 }))).toBe('rlls: penalty must be ≥ 0, got -1');
  });
});
