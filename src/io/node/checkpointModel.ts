/**
 * A run's trained model from its checkpoint file (run/checkpointModel.ts rebuilds it): given a run
 * directory (runs/<name>) or the checkpoint file itself. Used by `keel export`, `keel predict` and
 * `keel shift --checkpoint`; a missing file is one error naming it and what to give instead.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckpointModel, modelFromCheckpoint } from '../../run/checkpointModel.js';
import { CheckpointError, parseCheckpoint } from '../../train/checkpoint.js';
import { CHECKPOINT_FILE } from './runDir.js';

/** Loads the model of a checkpoint file, or of a run directory's checkpoint. */
export function loadCheckpointModel(where: string): CheckpointModel {
  const path = existsSync(where) && statSync(where).isDirectory() ? join(where, CHECKPOINT_FILE) : where;
  if (!existsSync(path))
    throw new CheckpointError(
      `${path} does not exist (give a run directory, e.g. runs/<name>, or its checkpoint file)`,
    );
  return modelFromCheckpoint(parseCheckpoint(readFileSync(path), path), path);
}
