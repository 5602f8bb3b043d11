/**
 * The trained model of a run, rebuilt from its checkpoint alone: the checkpoint's metadata holds the
 * run's configuration, which builds the same architecture (nn.mlp), and its `model.*` tensors are
 * the weights. Errors name the checkpoint (`source`) and what is missing or does not fit. Reading
 * the file is the caller's (io/node/checkpointModel.ts).
 */
import type { Sequential } from '../nn/layers/containers.js';
import { CheckpointError, type TrainingCheckpoint } from '../train/checkpoint.js';
import { Rng } from '../util/random.js';
import { buildModel, dataShape } from './build.js';
import { parseConfig, type RunConfig } from './config.js';

/** A parsed checkpoint with its metadata (train/checkpoint.ts' parseCheckpoint). */
export type ParsedCheckpoint = TrainingCheckpoint & { metadata: Record<string, string> };

/** A run's model in eval mode, its configuration and what its data looks like. */
export interface CheckpointModel {
  model: Sequential;
  config: RunConfig;
  inputs: number;
  classNames: readonly string[];
  checkpoint: ParsedCheckpoint;
  /** Where the checkpoint came from (a file path), as errors name it. */
  path: string;
}

/** Rebuilds the model of a parsed checkpoint from the configuration in its metadata. */
export function modelFromCheckpoint(checkpoint: ParsedCheckpoint, path: string): CheckpointModel {
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
