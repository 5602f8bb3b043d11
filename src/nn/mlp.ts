/**
 * The multilayer perceptron of the chapter, built in one place: Flatten, then for each hidden width
 * Linear → (LayerNorm) → activation → (GaussianNoise) → (Dropout), then the output Linear. Weights start from PyTorch's
 * default init, N(0, σ²) with zero biases (D2L's concise implementations), Xavier or Kaiming; every
 * draw comes from the given generator, in layer order (same seed, same model). The CLI's configs
 * and the experiments build their models with it.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ValueError } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import { constant_, kaimingNormal_, normal_, xavierNormal_, zeros_ } from './init.js';
import { ELU, GELU, LeakyReLU, PReLU, ReLU, Sigmoid, SiLU, Tanh } from './layers/activation.js';
import { Flatten, Sequential } from './layers/containers.js';
import { Linear } from './layers/linear.js';
import { Dropout, GaussianNoise, LayerNorm } from './layers/regularization.js';
import type { Module } from './module.js';

/** Activations `mlp` knows by name. */
export type ActivationName = 'relu' | 'leaky_relu' | 'prelu' | 'elu' | 'gelu' | 'silu' | 'sigmoid' | 'tanh';

/** How `mlp` initializes the Linear layers. */
export type MlpInit = 'default' | 'normal' | 'xavier' | 'kaiming' | 'constant';

/** Options of `mlp`. */
export interface MlpOptions {
  inputs: number;
  hidden: readonly number[];
  outputs: number;
  /** Default 'relu'. */
  activation?: ActivationName;
  /** One probability for every hidden layer, or one per hidden layer (default 0). */
  dropout?: number | readonly number[];
  /** σ of Gaussian noise added to each hidden layer's output in training: one for all, or one per hidden layer (default 0). */
  noise?: number | readonly number[];
  /** Default 'default' (PyTorch's Linear init). */
  init?: MlpInit;
  /** σ of init 'normal' (default 0.01). */
  initStd?: number;
  /** The value of every weight with init 'constant' (default 0.1): all hidden units alike, so they stay alike (D2L §5.4's symmetry). */
  initValue?: number;
  /** LayerNorm after each hidden Linear (default false). */
  layerNorm?: boolean;
  generator?: Rng;
}

/** A fresh module for each activation name (an exhaustive table: a new name must be added here). */
const ACTIVATIONS: Record<ActivationName, () => Module> = {
  relu: () => new ReLU(),
  leaky_relu: () => new LeakyReLU(),
  prelu: () => new PReLU(),
  elu: () => new ELU(),
  gelu: () => new GELU(),
  silu: () => new SiLU(),
  sigmoid: () => new Sigmoid(),
  tanh: () => new Tanh(),
};

function activation(name: ActivationName): Module {
  const make = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!make)
    throw new ValueError(
      `mlp: unknown activation '${String(name)}' (allowed: ${Object.keys(ACTIVATIONS).join(', ')})`,
    );
  return make();
}

/** An MLP inputs-hidden…-outputs (see the file's header). */
export function mlp(o: MlpOptions): Sequential {
  const act = o.activation ?? 'relu';
  const init = o.init ?? 'default';
  const drops = Array.isArray(o.dropout)
    ? o.dropout
    : o.hidden.map(() => (o.dropout as number | undefined) ?? 0);
  if (drops.length !== o.hidden.length)
    throw new ValueError(`mlp: ${drops.length} dropout probabilities for ${o.hidden.length} hidden layers`);
  const noise = Array.isArray(o.noise) ? o.noise : o.hidden.map(() => (o.noise as number | undefined) ?? 0);
  if (noise.length !== o.hidden.length)
    throw new ValueError(`mlp: ${noise.length} noise levels for ${o.hidden.length} hidden layers`);
  const g = o.generator;
  const initLayer = (l: Linear, last: boolean) => {
    if (init === 'default') return;
    if (init === 'normal') normal_(l.weight, 0, o.initStd ?? 0.01, { generator: g });
    else if (init === 'xavier') xavierNormal_(l.weight, 1, { generator: g });
    else if (init === 'constant') constant_(l.weight, o.initValue ?? 0.1);
    else
      kaimingNormal_(l.weight, {
        nonlinearity: last ? 'linear' : act === 'relu' ? 'relu' : 'leaky_relu',
        generator: g,
      });
    zeros_(l.bias as Tensor);
  };
  const layers: Module[] = [new Flatten()];
  let width = o.inputs;
  o.hidden.forEach((h, i) => {
    const l = new Linear(width, h, { generator: g });
    initLayer(l, false);
    layers.push(l);
    if (o.layerNorm) layers.push(new LayerNorm(h));
    layers.push(activation(act));
    if (noise[i] > 0) layers.push(new GaussianNoise(noise[i], g));
    if (drops[i] > 0) layers.push(new Dropout(drops[i], g));
    width = h;
  });
  const out = new Linear(width, o.outputs, { generator: g });
  initLayer(out, true);
  layers.push(out);
  return new Sequential(...layers);
}
