/**
 * The option schemas of training's entry points — `fit`, `TrainStep`, `evaluate`, the checkpoint and
 * divergence options inside them — checked with util/options.ts's `checkOptions`: unknown names are
 * refused with the closest known one, and each value says what it allows.
 */
import { z } from 'zod';
import { Module } from '../nn/module.js';
import { allow } from '../util/options.js';

const loader = () =>
  allow.withMethods('a DataLoader (an object with order() and batches())', ['order', 'batches']);
const lossFn = () => allow.fn('a function (output, target) => loss tensor');

/** fit's `divergence` option. */
export const DivergenceOptionsSchema = z.object({
  onNonFinite: allow.oneOf(['stop', 'continue']).optional(),
  patience: allow.nonNegativeInt().optional(),
  factor: z.number().gt(1).describe('> 1 (Infinity turns it off)').optional(),
});

/** fit's `checkpoint` option. */
export const CheckpointOptionsSchema = z.object({
  save: allow.fn('a function (checkpoint) => void'),
  every: allow.positiveInt().optional(),
  minutes: allow.positive().optional(),
});

/** The options of `fit`. */
export const FitOptionsSchema = z.object({
  model: z.instanceof(Module).describe('an nn.Module'),
  optimizer: allow.withMethods('an optimizer (an object with step() and zeroGrad())', ['step', 'zeroGrad']),
  train: loader(),
  epochs: allow.nonNegativeInt(),
  loss: lossFn().optional(),
  weightedLoss: allow.fn('a function (output, target, weights) => loss tensor').optional(),
  validation: loader().optional(),
  test: loader().optional(),
  callbacks: z
    .array(z.custom<object>((v) => v !== null && typeof v === 'object'))
    .describe('an array of callback objects (with onEpochEnd, onBatchEnd, …)')
    .optional(),
  clipGradNorm: allow.positive().optional(),
  progress: z
    .union([z.literal(false), allow.withMethods('', ['epochStart', 'batch', 'epochEnd'])])
    .describe('false (no progress) or an object with epochStart, batch and epochEnd methods')
    .optional(),
  divergence: DivergenceOptionsSchema.describe('an object { onNonFinite, patience, factor }').optional(),
  signal: z.instanceof(AbortSignal).describe('an AbortSignal').optional(),
  compile: allow.boolean().optional(),
  readEvery: allow.positiveInt().describe('a positive integer (steps between loss reads)').optional(),
  checkpoint: CheckpointOptionsSchema.describe('an object { save, every, minutes }').optional(),
  resume: z
    .custom<object>((v) => v !== null && typeof v === 'object' && 'state' in (v as object))
    .describe('a training checkpoint (train.parseCheckpoint)')
    .optional(),
});

/** The options of `TrainStep`. */
export const TrainStepOptionsSchema = z.object({
  model: z.instanceof(Module).describe('an nn.Module'),
  optimizer: allow.withMethods('an optimizer (an object with step() and zeroGrad())', ['step', 'zeroGrad']),
  losses: z
    .custom<object>((v) => v !== null && typeof v === 'object')
    .describe('the losses (lossesOf(loss, weightedLoss))'),
  clipGradNorm: allow.positive().optional(),
  compile: allow.boolean().optional(),
  dataset: z
    .custom<object>((v) => v !== null && typeof v === 'object')
    .describe('the training data set')
    .optional(),
  augment: allow.fn('a function (inputs) => perturbed inputs (a DataLoader’s augment)').optional(),
});

/** The options of `evaluate`. */
export const EvaluateOptionsSchema = z.object({ compile: allow.boolean().optional() });
