/**
 * The option schemas of the shift entry points (`analyze`, the three tests, the domain classifier,
 * importance weights, the label-shift estimators, `sampleWithPriors`), checked at each entry with
 * util/options.ts's `checkOptions`: unknown names are refused with the closest known one, and each
 * value says what it allows. The finer rules (folds ≤ rows, α in (0, 1), …) stay where they were.
 */
import { z } from 'zod';
import { allow } from '../util/options.js';

const alpha = () => z.number().gt(0).lt(1).describe('a number in (0, 1)');

/** A domain classifier's options (shift/domain.ts). */
export const DomainClassifierOptionsSchema = z.object({
  hidden: z
    .array(z.number().int().positive())
    .describe('an array of positive integers (hidden widths)')
    .optional(),
  epochs: allow.positiveInt().optional(),
  batchSize: allow.positiveInt().optional(),
  lr: allow.positive().optional(),
  weightDecay: allow.nonNegative().optional(),
  balance: allow.boolean().optional(),
  standardize: allow.oneOf(['columns', 'global', 'none']).optional(),
});

const classifier = () => DomainClassifierOptionsSchema.describe('domain classifier options').optional();

const test = {
  permutations: allow.positiveInt().optional(),
  alpha: alpha().optional(),
};

/** labelTest's options. */
export const TestOptionsSchema = z.object(test);
/** mmdTest's options. */
export const MmdOptionsSchema = z.object({ ...test, bandwidth: allow.positive().optional() });
/** classifierTest's options. */
export const ClassifierTestOptionsSchema = z.object({ ...test, classifier: classifier() });

const weights = {
  clip: allow.positive().optional(),
  normalize: allow.boolean().optional(),
};

/** estimateImportanceWeights's options. */
export const CovariateShiftOptionsSchema = z.object({
  ...weights,
  classifier: classifier(),
  folds: allow.positiveInt().describe('an integer ≥ 1').optional(),
});

/** analyze's options. */
export const AnalyzeOptionsSchema = z.object({
  alpha: alpha().optional(),
  permutations: allow.positiveInt().optional(),
  mmdRows: allow.positiveInt().optional(),
  classifierRows: allow.positiveInt().optional(),
  sourcePriors: z.array(allow.nonNegative()).describe('an array of class priors (numbers ≥ 0)').optional(),
  classifier: classifier(),
  clip: allow.positive().optional(),
});

/** rlls's options. */
export const RllsOptionsSchema = z.object({ penalty: allow.nonNegative().optional() });
/** emLabelShift's options. */
export const EmOptionsSchema = z.object({ calibration: allow.oneOf(['bcts', 'ts', 'none']).optional() });
/** sampleWithPriors's options. */
export const PriorSampleOptionsSchema = z.object({
  counts: allow.oneOf(['multinomial', 'exact']).optional(),
});
