/**
 * The random number generators a training run draws from, by name: the global one, each loader's
 * (shuffling) and every layer's own (dropout masks). Checkpoints save their states and restore them,
 * and the divergence diagnosis puts them back after its replay. One generator may appear under
 * several names (a loader and a layer sharing one); states taken at one moment restore consistently.
 */
import type { DataLoader } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { defaultGenerator, Rng } from '../util/random.js';

/** Every generator a forward pass of `model` may draw from, by name: `global` and `model.<path>.<field>`. */
export function modelGenerators(model: Module): [string, Rng][] {
  const out: [string, Rng][] = [['global', defaultGenerator()]];
  for (const [path, m] of model.namedModules())
    for (const [field, v] of Object.entries(m))
      if (v instanceof Rng) out.push([`model${path ? `.${path}` : ''}.${field}`, v]);
  return out;
}

/** The model's generators and the loaders' (`loader.<name>`). */
export function runGenerators(
  model: Module,
  loaders: Record<string, DataLoader | undefined>,
): [string, Rng][] {
  const out = modelGenerators(model);
  for (const [name, l] of Object.entries(loaders)) if (l) out.push([`loader.${name}`, l.generator]);
  return out;
}
