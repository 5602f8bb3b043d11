/**
 * The trained model of a run, rebuilt from its checkpoint alone: the checkpoint's metadata holds the
 * run's configuration, which builds the same architecture (nn.mlp), and its `model.*` tensors are
 * the weights. Used by `keel export` and `keel predict`; errors name the file and what is missing.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Sequential } from '../nn/layers/containers.js';
import { CheckpointError, parseCheckpoint, type TrainingCheckpoint } from '../train/checkpoint.js';
import { Rng } from '../util/random.js';
import { buildModel, dataShape } from './build.js';
import { parseConfig, type RunConfig } from './config.js';
import { CHECKPOINT_FILE } from './runDir.js';

/** A run's model in eval mode, its configuration and what its data looks like. */
export interface CheckpointModel {
  model: Sequential;
  config: RunConfig;
  inputs: number;
  classNames: readonly string[];
  checkpoint: TrainingCheckpoint;
  path: string;
}

/** Loads the model of a checkpoint file, or of a run directory's checkpoint. */
export function modelFromCheckpoint(where: string): CheckpointModel {
  const path = existsSync(where) && statSync(where).isDirectory() ? join(where, CHECKPOINT_FILE) : where;
  if (!existsSync(path))
    throw new CheckpointError(
      `${path} does not exist (give a run directory, e.g. runs/<name>, or its checkpoint file)`,
    );
  const checkpoint = parseCheckpoint(readFileSync(path), path);
  const { tensors } = checkpoint;
  const text = checkpoint.metadata.config;
  if (typeof text !== 'string')
    throw new CheckpointError(
      `${path}: the checkpoint has no run configuration in its metadata (was it written by keel train?)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(
      `${path}: the configuration in its metadata is not valid JSON (${(e as Error).message})`,
    );
  }
  const config = parseConfig(raw, `${path} (its configuration)`);
  const { inputs, classes, classNames } = dataShape(config);
  const model = buildModel(config, inputs, classes, new Rng(config.seed));
  const state = Object.fromEntries(
    Object.entries(tensors)
      .filter(([k]) => k.startsWith('model.'))
      .map(([k, t]) => [k.slice(6), t]),
  );
  try {
    model.loadStateDict(state);
  } catch (e) {
    throw new CheckpointError(
      `${path}: its weights do not fit the model its configuration builds (${(e as Error).message})`,
    );
  }
  model.eval();
  return { model, config, inputs, classNames, checkpoint, path };
}
