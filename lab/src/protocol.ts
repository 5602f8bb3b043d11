/**
 * Messages between the lab page and its training worker. The page sends a configuration and
 * play/pause/step; the worker answers with the run's facts, a progress beat (steps, steps per
 * second) with the epochs finished since the last one (~10 a second while running), snapshots to
 * draw (~8 a second), alarms as they fire, and errors as one line.
 */

import type { Alarm } from '../../src/diagnostics/index.js';
import type { RunConfig } from '../../src/run/config.js';
import type { EpochPoint, RunInfo, Snapshot } from './session.js';

export type ToWorker =
  /** `dataUrl`: where `keel lab` serves the Fashion-MNIST subset (resolved against the page). */
  | { type: 'configure'; config: RunConfig; dataUrl: string }
  | { type: 'play' }
  | { type: 'pause' }
  | { type: 'step'; steps: number }
  | { type: 'weights' };

export type FromWorker =
  | { type: 'ready'; info: RunInfo }
  | {
      type: 'progress';
      step: number;
      epoch: number;
      stepsPerSecond: number;
      running: boolean;
      finished: boolean;
      /** The loss turned NaN/Inf (or exploded) and training stopped: keel's diagnosis, in a sentence. */
      diverged?: string;
    }
  | { type: 'epochs'; points: EpochPoint[] }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'alarm'; alarm: Alarm }
  | { type: 'weights'; bytes: Uint8Array }
  | { type: 'loading'; message: string }
  | { type: 'error'; message: string };
