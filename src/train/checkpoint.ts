/**
 * Training checkpoints: everything `fit` needs to continue a run as if it had never stopped — the
 * model's parameters and buffers, the optimizer's state (every transform's buffers, step counts,
 * the groups' options), the callbacks' state (scheduler positions, early stopping's best weights),
 * every generator's state (global, loaders, layers), the position (epoch, batch, step), the sums of
 * the epoch in progress, the divergence watch's memory and the history. Resuming from one ends
 * bit-identical to the uninterrupted run on the same backend.
 *
 * On disk a checkpoint is one safetensors file (so it never executes code and other tools can open
 * it): tensors `model.<key>` (PyTorch's names), `optimizer.<parameter index>.<buffer>` (float64),
 * `callbacks.<index>.<name>`, and the rest as JSON in the metadata entry `keel.checkpoint`
 * (non-finite numbers tagged). Wall-clock facts (seconds, samples/s) are not part of it, so the
 * file depends only on the computation: the epochs of a resumed history carry NaN there.
 * `parseCheckpoint` validates the whole structure and names what is wrong.
 */
import { z } from 'zod';
import type { DataLoader } from '../data/loader.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../format/safetensors.js';
import type { Module } from '../nn/module.js';
import type { BaseOptions, Optimizer, OptimizerState } from '../optim/optimizer.js';
import { fromHost } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { KeelError } from '../util/errors.js';
import type { DivergenceWatch, DivergenceWatchState } from './divergence.js';
import type { Callback, EpochRecord, History } from './fit.js';
import { runGenerators } from './generators.js';

/** A checkpoint that cannot be read or does not fit the run it is resumed into. */
export class CheckpointError extends KeelError {}

/** The sums of an epoch in progress (a checkpoint taken inside an epoch). */
export interface EpochProgress {
  /** The train loader's generator state when the epoch began (its order is drawn from it again). */
  loaderState: number[];
  lr: number;
  total: number;
  correct: number;
  samples: number;
  classes: boolean;
}

/** Where a run stands: the next batch to run is `batch` (0-based) of `epoch`; `step` steps are done. */
export interface RunPosition {
  epoch: number;
  batch: number;
  step: number;
}

/** The JSON part of a checkpoint. */
export interface CheckpointState {
  version: 1;
  /** The run's length in epochs. */
  epochs: number;
  position: RunPosition;
  epoch: EpochProgress | null;
  optimizer: { groups: OptimizerState<BaseOptions>['groups']; steps: Record<string, number> };
  generators: Record<string, number[]>;
  divergence: DivergenceWatchState;
  /** Per callback: its JSON values and the names of its tensors, or null when it keeps no state. */
  callbacks: ({ values?: unknown; tensors: string[] } | null)[];
  /** Epoch records without their wall-clock fields. */
  history: Omit<EpochRecord, 'seconds' | 'samplesPerSecond'>[];
  /** Why the run ended early, when it did (the final checkpoint of a stopped run). */
  stopReason: 'callback' | 'diverged' | null;
}

/** A training checkpoint in memory. */
export interface TrainingCheckpoint {
  tensors: Record<string, Tensor>;
  state: CheckpointState;
}

/** What a checkpoint is taken from and restored into. */
export interface RunParts {
  model: Module;
  optimizer: Optimizer<BaseOptions>;
  callbacks: readonly Callback[];
  watch: DivergenceWatch;
  loaders: Record<string, DataLoader | undefined>;
}

/** Takes a checkpoint of a run at `position` (`epoch` non-null inside an epoch). */
export function captureCheckpoint(
  parts: RunParts,
  at: {
    epochs: number;
    position: RunPosition;
    epoch: EpochProgress | null;
    history: History;
    stopReason: 'callback' | 'diverged' | null;
  },
): TrainingCheckpoint {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(parts.model.stateDict())) tensors[`model.${k}`] = t;
  const opt = parts.optimizer.stateDict();
  const steps: Record<string, number> = {};
  for (const [i, s] of Object.entries(opt.state)) {
    steps[i] = s.step;
    for (const [name, values] of Object.entries(s.buffers))
      tensors[`optimizer.${i}.${name}`] = fromHost(Float64Array.from(values), [values.length], 'float64');
  }
  const callbacks = parts.callbacks.map((c, i) => {
    const s = c.stateDict?.();
    if (!s) return null;
    for (const [name, t] of Object.entries(s.tensors ?? {})) tensors[`callbacks.${i}.${name}`] = t;
    return { values: s.values, tensors: Object.keys(s.tensors ?? {}) };
  });
  const generators: Record<string, number[]> = {};
  for (const [name, g] of runGenerators(parts.model, parts.loaders)) generators[name] = g.getState();
  return {
    tensors,
    state: {
      version: 1,
      epochs: at.epochs,
      position: { ...at.position },
      epoch: at.epoch ? { ...at.epoch, loaderState: [...at.epoch.loaderState] } : null,
      optimizer: { groups: opt.groups, steps },
      generators,
      divergence: parts.watch.stateDict(),
      callbacks,
      history: at.history.epochs.map(({ seconds: _s, samplesPerSecond: _r, ...rest }) => rest),
      stopReason: at.stopReason,
    },
  };
}

/** Puts every generator back to the checkpoint's states. */
export function restoreGenerators(ck: TrainingCheckpoint, parts: RunParts): void {
  for (const [name, g] of runGenerators(parts.model, parts.loaders)) g.setState(ck.state.generators[name]);
}

/**
 * Restores a checkpoint into a run built the same way (same model, optimizer groups, callbacks and
 * loaders); throws a `CheckpointError` naming what does not fit. Returns the history so far.
 */
export function restoreCheckpoint(ck: TrainingCheckpoint, parts: RunParts): History {
  const s = ck.state;
  const model: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(ck.tensors)) if (k.startsWith('model.')) model[k.slice(6)] = t;
  try {
    parts.model.loadStateDict(model);
  } catch (e) {
    throw new CheckpointError(`checkpoint: the model does not fit it (${(e as Error).message})`);
  }
  const state: OptimizerState<BaseOptions>['state'] = {};
  for (const [i, step] of Object.entries(s.optimizer.steps)) {
    const buffers: Record<string, number[]> = {};
    const prefix = `optimizer.${i}.`;
    for (const [k, t] of Object.entries(ck.tensors))
      if (k.startsWith(prefix)) buffers[k.slice(prefix.length)] = Array.from(t.readSync() as Float64Array);
    state[Number(i)] = { step, buffers };
  }
  try {
    parts.optimizer.loadStateDict({ groups: s.optimizer.groups, state });
  } catch (e) {
    throw new CheckpointError(`checkpoint: the optimizer does not fit it (${(e as Error).message})`);
  }
  if (s.callbacks.length !== parts.callbacks.length)
    throw new CheckpointError(
      `checkpoint: it holds the state of ${s.callbacks.length} callbacks, this run has ${parts.callbacks.length} (resume with the same callbacks, in the same order)`,
    );
  parts.callbacks.forEach((c, i) => {
    const cs = s.callbacks[i];
    if (!c.loadStateDict) {
      if (cs)
        throw new CheckpointError(
          `checkpoint: callback ${i} has saved state, but this run's callback ${i} cannot load state`,
        );
      return;
    }
    if (!cs)
      throw new CheckpointError(`checkpoint: callback ${i} keeps state, but the checkpoint has none for it`);
    const tensors = Object.fromEntries(cs.tensors.map((n) => [n, ck.tensors[`callbacks.${i}.${n}`]]));
    c.loadStateDict({ values: cs.values, tensors });
  });
  const names = runGenerators(parts.model, parts.loaders).map(([n]) => n);
  const missing = names.filter((n) => !(n in s.generators));
  const extra = Object.keys(s.generators).filter((n) => !names.includes(n));
  if (missing.length || extra.length)
    throw new CheckpointError(
      `checkpoint: the run's random generators differ from the checkpoint's (${[
        missing.length ? `not in the checkpoint: ${missing.join(', ')}` : '',
        extra.length ? `not in this run: ${extra.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')})`,
    );
  restoreGenerators(ck, parts);
  parts.watch.loadStateDict(s.divergence);
  return {
    epochs: s.history.map((r) => ({ ...r, seconds: Number.NaN, samplesPerSecond: Number.NaN })),
    stoppedEarly: false,
  };
}

// JSON with non-finite numbers (a loss of Infinity, a best of -Infinity) as tagged objects.
const TAG = '$number';
const toJson = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? { [TAG]: String(x) } : x));
const fromJson = (text: string) =>
  JSON.parse(text, (_k, x) =>
    x &&
    typeof x === 'object' &&
    !Array.isArray(x) &&
    Object.keys(x).length === 1 &&
    typeof x[TAG] === 'string'
      ? Number(x[TAG])
      : x,
  );

/** The metadata key holding the JSON state, and the `format` value marking a keel checkpoint. */
export const CHECKPOINT_KEY = 'keel.checkpoint';
export const CHECKPOINT_FORMAT = 'keel-checkpoint';

/** A checkpoint as safetensors bytes; `metadata` adds string entries (e.g. the run's configuration). */
export function serializeCheckpoint(
  ck: TrainingCheckpoint,
  metadata: Record<string, string> = {},
): Uint8Array {
  return serializeSafetensors(ck.tensors, {
    ...metadata,
    format: CHECKPOINT_FORMAT,
    [CHECKPOINT_KEY]: toJson(ck.state),
  });
}

// Any number, NaN and ±Infinity included (zod's number() refuses those; a diverged loss is NaN).
const num = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const int = z.number().int().nonnegative();
const genState = z.array(num).length(5);
const StateSchema = z.object({
  version: z.literal(1),
  epochs: int,
  position: z.object({ epoch: int, batch: int, step: int }),
  epoch: z
    .object({ loaderState: genState, lr: num, total: num, correct: num, samples: int, classes: z.boolean() })
    .nullable(),
  optimizer: z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        paramCount: int,
        options: z.record(z.string(), z.unknown()),
        initialLr: num,
      }),
    ),
    steps: z.record(z.string().regex(/^\d+$/), int),
  }),
  generators: z.record(z.string(), genState),
  divergence: z.object({
    first: num.nullable(),
    previous: num.nullable(),
    recent: z.array(z.object({ step: int, loss: num })),
    divergence: z.record(z.string(), z.unknown()).nullable(),
  }),
  callbacks: z.array(z.object({ values: z.unknown().optional(), tensors: z.array(z.string()) }).nullable()),
  history: z.array(z.object({ epoch: int, trainLoss: num, lr: num }).catchall(z.unknown())),
  stopReason: z.enum(['callback', 'diverged']).nullable(),
});

/**
 * Reads a checkpoint from safetensors bytes; `source` (a file name) heads every error. `metadata`
 * holds the file's other string entries (the CLI's run configuration).
 */
export function parseCheckpoint(
  bytes: Uint8Array,
  source = 'checkpoint',
): TrainingCheckpoint & { metadata: Record<string, string> } {
  const fail = (what: string): never => {
    throw new CheckpointError(`${source}: ${what}`);
  };
  let content: ReturnType<typeof parseSafetensors> | undefined;
  try {
    content = parseSafetensors(bytes, source);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message);
    throw e;
  }
  const { tensors, metadata } = content;
  if (metadata.format !== CHECKPOINT_FORMAT || !(CHECKPOINT_KEY in metadata))
    fail(
      `not a keel checkpoint (a safetensors file without the '${CHECKPOINT_KEY}' metadata; a plain state dict loads with loadSafetensors)`,
    );
  let raw: unknown;
  try {
    raw = fromJson(metadata[CHECKPOINT_KEY]);
  } catch (e) {
    fail(`the checkpoint state is not valid JSON (${(e as Error).message})`);
  }
  const parsed = StateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(
      `the checkpoint state is malformed at ${['state', ...issue.path.map(String)].join('.')}: ${issue.message}`,
    );
  }
  const state = (parsed as { data: unknown }).data as CheckpointState;
  if (state.position.epoch < 1 || state.position.epoch > state.epochs + 1)
    fail(`position epoch ${state.position.epoch} is outside the run's 1..${state.epochs + 1}`);
  for (const [i, cb] of state.callbacks.entries())
    for (const n of cb?.tensors ?? [])
      if (!(`callbacks.${i}.${n}` in tensors)) fail(`callback ${i}'s tensor '${n}' is missing`);
  for (const [k, t] of Object.entries(tensors)) {
    const m = /^optimizer\.(\d+)\./.exec(k);
    if (m && (!(m[1] in state.optimizer.steps) || t.dtype !== 'float64' || t.ndim !== 1))
      fail(`optimizer tensor '${k}' has no step count or is not a float64 vector`);
  }
  const { [CHECKPOINT_KEY]: _state, format: _format, ...rest } = metadata;
  return { tensors, state, metadata: rest };
}
