/**
 * Turns a validated RunConfig into the objects of a run: the model (MLP with the chosen activation,
 * dropout, hidden-unit noise, initialization, optional LayerNorm), the optimizer with its parameter
 * groups and weight decay mode, the scheduler, and the data loaders (Fashion-MNIST or a synthetic
 * 2-D set; the training loader with the configured input perturbations).
 */

import type { Dataset } from '../data/dataset.js';
import { randomSplit, TensorDataset } from '../data/dataset.js';
import { FASHION_MNIST_CLASSES, type ImageSet, imageDataset } from '../data/fashionMnist.js';
import { DataLoader } from '../data/loader.js';
import { circles, moons, type Points2d, spirals, xor } from '../data/synthetic.js';
import { compose } from '../data/transforms/compose.js';
import { randomErasing } from '../data/transforms/erase.js';
import { randomHorizontalFlip } from '../data/transforms/flip.js';
import { gaussianNoise } from '../data/transforms/noise.js';
import { randomTranslate } from '../data/transforms/translate.js';
import type { Transform } from '../data/transforms/types.js';
import type { Sequential } from '../nn/layers/containers.js';
import { mlp } from '../nn/mlp.js';
import type { Module } from '../nn/module.js';
import { decayGroups } from '../optim/groups.js';
import type { BaseOptions, GroupSpec, Optimizer } from '../optim/optimizer.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../optim/optimizers.js';
import {
  CosineAnnealingLR,
  ExponentialLR,
  type LRScheduler,
  OneCycleLR,
  StepLR,
} from '../optim/schedulers.js';
import { ValueError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { RunConfig } from './config.js';

/** The MLP described by `config.model` for `inputs` features and `classes` outputs. */
export function buildModel(config: RunConfig, inputs: number, classes: number, g: Rng): Sequential {
  const m = config.model;
  return mlp({
    inputs,
    hidden: m.hidden,
    outputs: classes,
    activation: m.activation,
    dropout: m.dropout,
    noise: m.noise,
    init: m.init,
    initStd: m.initStd,
    initValue: m.initValue,
    layerNorm: m.layerNorm,
    generator: g,
  });
}

/** The optimizer of `config.optimizer` over the model's parameters. */
export function buildOptimizer(config: RunConfig, model: Module): Optimizer<BaseOptions> {
  const o = config.optimizer;
  const shared = { weightDecay: o.weightDecay, penalty: o.penalty, proximal: o.proximal };
  const groups: GroupSpec<BaseOptions>[] =
    o.groups === 'default'
      ? decayGroups(model.namedParameters(), {
          weightDecay: o.weightDecay,
          shared: { penalty: o.penalty, proximal: o.proximal },
        })
      : [{ params: model.parameters(), name: 'all', ...shared }];
  switch (o.name) {
    case 'sgd':
      return new SGD(groups, { lr: o.lr, momentum: o.momentum });
    case 'adam':
      return new Adam(groups, { lr: o.lr });
    case 'adamw':
      return new AdamW(groups, { lr: o.lr });
    case 'rmsprop':
      return new RMSprop(groups, { lr: o.lr, momentum: o.momentum });
    case 'adagrad':
      return new Adagrad(groups, { lr: o.lr });
    default:
      return o.name satisfies never;
  }
}

/** The scheduler of `config.schedule` (null for 'none'); `perBatch` tells when to step it. */
export function buildScheduler(
  config: RunConfig,
  optimizer: Optimizer<BaseOptions>,
  batchesPerEpoch: number,
): { scheduler: LRScheduler; perBatch: boolean } | null {
  const s = config.schedule;
  switch (s.name) {
    case 'none':
      return null;
    case 'step':
      return { scheduler: new StepLR(optimizer, s.stepSize, s.gamma), perBatch: false };
    case 'exponential':
      return { scheduler: new ExponentialLR(optimizer, s.gamma), perBatch: false };
    case 'cosine':
      return { scheduler: new CosineAnnealingLR(optimizer, config.epochs), perBatch: false };
    case 'onecycle':
      return {
        scheduler: new OneCycleLR(optimizer, config.optimizer.lr, {
          totalSteps: config.epochs * batchesPerEpoch,
        }),
        perBatch: true,
      };
    default:
      return s.name satisfies never;
  }
}

/**
 * The training inputs' perturbations of `config.data.transforms` in their order — translate, flip,
 * erase, noise — or null when none is on.
 */
export function buildTransform(config: RunConfig): Transform | null {
  const t = config.data.transforms;
  const parts: Transform[] = [];
  if (t.translate > 0) parts.push(randomTranslate(t.translate));
  if (t.flip > 0) parts.push(randomHorizontalFlip(t.flip));
  if (t.erase > 0) parts.push(randomErasing({ p: t.erase }));
  if (t.noise > 0) parts.push(gaussianNoise(t.noise));
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : compose(...parts);
}

/** Loaders and shapes of a run's data. */
export interface RunData {
  train: DataLoader;
  validation?: DataLoader;
  test: DataLoader;
  inputs: number;
  classes: number;
  description: string;
}

/** What a configured data set feeds the model: features per sample, classes and their names. */
export function dataShape(config: RunConfig): {
  inputs: number;
  classes: number;
  classNames: readonly string[];
} {
  const d = config.data.dataset;
  if (d === 'fashion-mnist') return { inputs: 784, classes: 10, classNames: FASHION_MNIST_CLASSES };
  const classes = d === 'spirals' ? 3 : 2;
  return { inputs: 2, classes, classNames: Array.from({ length: classes }, (_, i) => `class ${i}`) };
}

/** Builds loaders from Fashion-MNIST (when given) or the configured synthetic set. */
export function buildData(config: RunConfig, fashion: { train: ImageSet; test: ImageSet } | null): RunData {
  const d = config.data;
  const g = new Rng(config.seed);
  let trainSet: Dataset;
  let testSet: Dataset;
  const { inputs, classes } = dataShape(config);
  let description: string;
  const transform = buildTransform(config);
  if (d.dataset === 'fashion-mnist') {
    if (!fashion)
      throw new ValueError(
        "buildData: data.dataset is 'fashion-mnist' but no Fashion-MNIST images were passed (load them with loadFashionMnist first)",
      );
    // Batches are gathered from the stored bytes where the set has them (converted as gathered).
    trainSet = imageDataset(fashion.train);
    testSet = imageDataset(fashion.test);
    description = `Fashion-MNIST (${trainSet.length} train, ${testSet.length} test)`;
  } else {
    const make: Record<string, (n: number, seed: number) => Points2d> = {
      moons: (n, s) => moons(n, d.noise ?? 0.1, s),
      circles: (n, s) => circles(n, d.noise ?? 0.05, 0.5, s),
      spirals: (n, s) => spirals(n, 3, d.noise ?? 0.05, s),
      xor: (n, s) => xor(n, d.noise ?? 0, s),
    };
    const tr = make[d.dataset](d.samples, config.seed);
    const te = make[d.dataset](Math.max(10, Math.floor(d.samples / 2)), config.seed + 1);
    trainSet = new TensorDataset(tr.X, tr.y);
    testSet = new TensorDataset(te.X, te.y);
    description = `${d.dataset} (${trainSet.length} train, ${testSet.length} test points)`;
  }
  let validation: DataLoader | undefined;
  if (d.validation > 0) {
    const [tr, va] = randomSplit(trainSet, [1 - d.validation, d.validation], g);
    trainSet = tr;
    validation = new DataLoader(va, { batchSize: 1000 });
    description += `, ${va.length} held out for validation`;
  }
  if (transform) description += `, training inputs through ${transform.name}`;
  return {
    train: new DataLoader(trainSet, {
      batchSize: d.batchSize,
      shuffle: true,
      generator: g,
      transform: transform ?? undefined,
    }),
    validation,
    test: new DataLoader(testSet, { batchSize: 1000 }),
    inputs,
    classes,
    description,
  };
}
