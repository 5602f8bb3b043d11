/**
 * The option schemas of the optimizers and the schedulers that take option objects, checked at
 * their constructors with util/options.ts's `checkOptions`: an unknown name (`weight_decay`,
 * `weightdecay`) is refused with the closest known one, a value of the wrong type (`nesterov:
 * 'yes'`) says what is allowed. The ranges (lr ≥ 0, betas in [0, 1), …) are checked where they
 * were before, per parameter group, with the group named (optimizer.ts).
 */
import { z } from 'zod';
import { allow, checkOptions } from '../util/options.js';

const common = {
  lr: allow.nonNegative().optional(),
  weightDecay: allow.nonNegative().optional(),
  penalty: allow.oneOf(['l2', 'l1']).optional(),
  proximal: allow.boolean().optional(),
};

/** An optimizer's schema: the common options and its own `fields`, every one of them optional. */
function optimizer<F extends Record<string, z.ZodType>>(fields: F) {
  const own = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()]));
  return z.object({ ...common, ...(own as { [K in keyof F]: z.ZodOptional<F[K]> }) });
}

const nonNegative = allow.nonNegative();
const flag = allow.boolean();
const betas = z.tuple([z.number(), z.number()]).describe('a pair [β1, β2] of numbers in [0, 1)');

/** Each built-in optimizer's options. */
export const OPTIMIZER_OPTIONS = {
  SGD: optimizer({ momentum: nonNegative, dampening: nonNegative, nesterov: flag }),
  Adam: optimizer({ betas, eps: nonNegative, amsgrad: flag }),
  RMSprop: optimizer({ alpha: allow.unit(), eps: nonNegative, centered: flag, momentum: nonNegative }),
  Adagrad: optimizer({ lrDecay: nonNegative, initialAccumulatorValue: nonNegative, eps: nonNegative }),
  ChainOptimizer: optimizer({}),
} as const;

/** The name an optimizer's options are checked under (AdamW takes Adam's). */
export type OptimizerName = keyof typeof OPTIMIZER_OPTIONS | 'AdamW';

const groupFields = {
  params: z.array(z.any()).describe('an array of parameter tensors'),
  name: z.string().describe('a string').optional(),
};

/**
 * Checks an optimizer's options and, when `params` is a list of groups, each group's (its
 * `params`, `name` and the optimizer's options).
 */
export function checkOptimizerOptions(name: OptimizerName, params: unknown, opts: unknown): void {
  const schema = OPTIMIZER_OPTIONS[name === 'AdamW' ? 'Adam' : name];
  checkOptions(name, schema, opts, { optional: true });
  if (!Array.isArray(params)) return;
  params.forEach((g, i) => {
    if (g && typeof g === 'object' && 'params' in g && !('shape' in g))
      checkOptions(`${name} (parameter group ${i})`, schema.extend(groupFields), g);
  });
}

/** OneCycleLR's options. */
export const OneCycleOptionsSchema = z.object({
  totalSteps: allow.positiveInt(),
  pctStart: z.number().gt(0).lt(1).describe('a number in (0, 1)').optional(),
  divFactor: allow.positive().optional(),
  finalDivFactor: allow.positive().optional(),
  cycleMomentum: allow.boolean().optional(),
  baseMomentum: allow.nonNegative().optional(),
  maxMomentum: allow.nonNegative().optional(),
});

/** ReduceLROnPlateau's options. */
export const PlateauOptionsSchema = z.object({
  mode: allow.oneOf(['min', 'max']).optional(),
  factor: z.number().gt(0).lt(1).describe('a number in (0, 1)').optional(),
  patience: allow.nonNegativeInt().optional(),
  threshold: allow.nonNegative().optional(),
  thresholdMode: allow.oneOf(['rel', 'abs']).optional(),
  cooldown: allow.nonNegativeInt().optional(),
  minLr: allow.nonNegative().optional(),
  eps: allow.nonNegative().optional(),
});
