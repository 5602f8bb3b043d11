/**
 * The run configuration — what `keel train`, `keel graph`, `keel shift`, a sweep's trials and the
 * lab's page all describe a run with: JSON validated with zod, with overrides (the CLI's flags)
 * applied before validation so that they are validated too. A bad field is reported with its path,
 * what was given and what is allowed (`config.optimizer.lr: must be > 0, got -1`). Reading the file
 * is the caller's (io/node/runConfig.ts on Node; the lab keeps it in the URL).
 */
import { z } from 'zod';
import { KeelError } from '../util/errors.js';

const prob = z.number().min(0).max(1);

/** A run's or a sweep's name: it names a directory, so letters, digits, _, . and - only. */
export const nameSchema = (fallback: string) =>
  z
    .string()
    .regex(/^[\w.-]+$/, 'must be letters, digits, _, . or -')
    .default(fallback);

/** The schema; every field has a default, so `{}` is a valid config (a Fashion-MNIST MLP). */
export const RunConfigSchema = z
  .object({
    name: nameSchema('run'),
    seed: z.number().int().min(0).default(0),
    epochs: z.number().int().min(1).default(10),
    data: z
      .object({
        dataset: z.enum(['fashion-mnist', 'moons', 'circles', 'spirals', 'xor']).default('fashion-mnist'),
        batchSize: z.number().int().min(1).default(256),
        /** Keep only the first `limit` training and test samples (quick runs). */
        limit: z.number().int().min(1).optional(),
        /** Fraction of the training set held out for validation. */
        validation: z.number().min(0).max(0.5).default(0),
        /** Points of a synthetic 2-D set (train; the test set has half as many). */
        samples: z.number().int().min(10).default(1000),
        noise: z.number().min(0).optional(),
        download: z.boolean().default(false),
        /**
         * Perturbations of the training inputs, drawn anew each step (data/transforms), applied in
         * this order: translate (up to k pixels, zero fill), flip (horizontal, with probability p),
         * erase (a random rectangle, with probability p), noise (additive N(0, σ²)). The spatial
         * ones need images (fashion-mnist); noise works on any data. Evaluation never applies them.
         */
        transforms: z
          .object({
            translate: z.number().int().min(0).default(0),
            flip: prob.default(0),
            erase: prob.default(0),
            noise: z.number().min(0).default(0),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .superRefine((d, ctx) => {
        if (d.dataset === 'fashion-mnist') return;
        for (const k of ['translate', 'flip', 'erase'] as const)
          if (d.transforms[k] > 0)
            ctx.addIssue({
              code: 'custom',
              path: ['transforms', k],
              message: `moves or erases pixels, so it needs images (dataset 'fashion-mnist'), not '${d.dataset}' points; use transforms.noise there`,
            });
      })
      .prefault({}),
    model: z
      .object({
        hidden: z.array(z.number().int().min(1)).default([256]),
        activation: z
          .enum(['relu', 'leaky_relu', 'prelu', 'elu', 'gelu', 'silu', 'sigmoid', 'tanh'])
          .default('relu'),
        /** One probability for every hidden layer, or one per hidden layer. */
        dropout: z.union([prob, z.array(prob)]).default(0),
        /** σ of Gaussian noise on each hidden layer's output in training: one for all, or one per hidden layer. */
        noise: z.union([z.number().min(0), z.array(z.number().min(0))]).default(0),
        init: z.enum(['default', 'normal', 'xavier', 'kaiming', 'constant']).default('default'),
        /** Standard deviation for init 'normal'. */
        initStd: z.number().positive().default(0.01),
        /** Every weight's value for init 'constant' (default 0.1). */
        initValue: z.number().optional(),
        layerNorm: z.boolean().default(false),
      })
      .strict()
      .superRefine((m, ctx) => {
        if (Array.isArray(m.dropout) && m.dropout.length !== m.hidden.length)
          ctx.addIssue({
            code: 'custom',
            path: ['dropout'],
            message: `${m.dropout.length} probabilities for ${m.hidden.length} hidden layer${m.hidden.length === 1 ? '' : 's'}: give one per hidden layer, or one number for all`,
          });
        if (Array.isArray(m.noise) && m.noise.length !== m.hidden.length)
          ctx.addIssue({
            code: 'custom',
            path: ['noise'],
            message: `${m.noise.length} noise levels for ${m.hidden.length} hidden layer${m.hidden.length === 1 ? '' : 's'}: give one per hidden layer, or one number for all`,
          });
      })
      .prefault({}),
    optimizer: z
      .object({
        name: z.enum(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad']).default('sgd'),
        lr: z.number().positive().default(0.1),
        momentum: z.number().min(0).max(1).default(0),
        weightDecay: z.number().min(0).default(0),
        penalty: z.enum(['l2', 'l1']).default('l2'),
        proximal: z.boolean().default(false),
        /** 'default': decay weight matrices only (not biases or norm weights); 'all': one group. */
        groups: z.enum(['default', 'all']).default('default'),
      })
      .strict()
      .prefault({}),
    schedule: z
      .object({
        name: z.enum(['none', 'step', 'cosine', 'exponential', 'onecycle']).default('none'),
        stepSize: z.number().int().min(1).default(5),
        gamma: z.number().positive().max(1).default(0.1),
      })
      .strict()
      .prefault({}),
    labelSmoothing: prob.default(0),
    clipGradNorm: z.number().positive().optional(),
    /** Run training steps as compiled plans (false: eagerly; the same results, slower). */
    compile: z.boolean().default(true),
    /** A diverged loss (NaN/Inf, or above `factor` × the first step's): stop (default) or continue. */
    divergence: z
      .object({
        onNonFinite: z.enum(['stop', 'continue']).default('stop'),
        /** Diverged steps tolerated before stopping. */
        patience: z.number().int().min(0).default(0),
        factor: z.number().gt(1).default(1e6),
      })
      .strict()
      .prefault({}),
    /**
     * Checkpoints (runs/<name>/checkpoint.safetensors, replaced atomically): after every `everyEpochs`
     * epochs, every `minutes` inside an epoch too, and at the end. `keel train --resume` continues.
     */
    checkpoint: z
      .object({
        everyEpochs: z.number().int().min(1).default(1),
        minutes: z.number().positive().default(10),
      })
      .strict()
      .prefault({}),
    /** Where a run ran (backends, threads, versions): written into config.json by keel, ignored when read. */
    environment: z.unknown().optional(),
  })
  .strict();

/** A validated run configuration. */
export type RunConfig = z.infer<typeof RunConfigSchema>;

/** A configuration that failed validation; `message` lists every bad field. */
export class ConfigError extends KeelError {}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path)
    cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

/**
 * Validates raw JSON; throws ConfigError naming each bad field's path (`config.optimizer.lr`), the
 * value given and what is allowed. `source` (a file name) heads the message.
 */
export function parseConfig(raw: unknown, source?: string): RunConfig {
  const r = RunConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((issue) => {
    const path = ['config', ...issue.path.map(String)].join('.');
    const got = valueAt(raw, issue.path);
    const shown = issue.code === 'unrecognized_keys' ? '' : `, got ${JSON.stringify(got)}`;
    return `  ${path}: ${issue.message}${shown}`;
  });
  throw new ConfigError(
    `invalid configuration${source ? ` in ${source}` : ''} (flags included):\n${lines.join('\n')}`,
  );
}

/** Settings that override the configuration (the CLI's flags). */
export interface Overrides {
  name?: string;
  seed?: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  weightDecay?: number;
  dropout?: number;
  /** σ of Gaussian noise on every hidden layer (model.noise). */
  hiddenNoise?: number;
  /** data.transforms: σ of input noise, shift in pixels, flip and erase probabilities. */
  inputNoise?: number;
  translate?: number;
  flip?: number;
  erase?: number;
  optimizer?: string;
  limit?: number;
  download?: boolean;
  clipGradNorm?: number;
  onNonfinite?: string;
  nonfinitePatience?: number;
}

/** Applies overrides onto a raw configuration object (before validation, so they are validated too). */
export function applyOverrides(raw: Record<string, unknown>, o: Overrides): Record<string, unknown> {
  const out = structuredClone(raw);
  const section = (k: string) => {
    const cur = out[k];
    if (cur === undefined || cur === null || typeof cur !== 'object') out[k] = {};
    return out[k] as Record<string, unknown>;
  };
  if (o.name !== undefined) out.name = o.name;
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.epochs !== undefined) out.epochs = o.epochs;
  if (o.lr !== undefined) section('optimizer').lr = o.lr;
  if (o.weightDecay !== undefined) section('optimizer').weightDecay = o.weightDecay;
  if (o.optimizer !== undefined) section('optimizer').name = o.optimizer;
  if (o.batchSize !== undefined) section('data').batchSize = o.batchSize;
  if (o.limit !== undefined) section('data').limit = o.limit;
  if (o.download !== undefined) section('data').download = o.download;
  if (o.dropout !== undefined) section('model').dropout = o.dropout;
  if (o.hiddenNoise !== undefined) section('model').noise = o.hiddenNoise;
  const transforms = () => {
    const d = section('data');
    if (d.transforms === undefined || d.transforms === null || typeof d.transforms !== 'object')
      d.transforms = {};
    return d.transforms as Record<string, unknown>;
  };
  if (o.inputNoise !== undefined) transforms().noise = o.inputNoise;
  if (o.translate !== undefined) transforms().translate = o.translate;
  if (o.flip !== undefined) transforms().flip = o.flip;
  if (o.erase !== undefined) transforms().erase = o.erase;
  if (o.clipGradNorm !== undefined) out.clipGradNorm = o.clipGradNorm;
  if (o.onNonfinite !== undefined) section('divergence').onNonFinite = o.onNonfinite;
  if (o.nonfinitePatience !== undefined) section('divergence').patience = o.nonfinitePatience;
  return out;
}
