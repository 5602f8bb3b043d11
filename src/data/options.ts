/**
 * DataLoader's option schema, checked at its constructor with util/options.ts's `checkOptions`
 * (unknown names refused with the closest known one, each value saying what it allows).
 */
import { z } from 'zod';
import { allow } from '../util/options.js';

/** The options of `DataLoader`. */
export const LoaderOptionsSchema = z.object({
  batchSize: allow.positiveInt().optional(),
  shuffle: allow.boolean().optional(),
  dropLast: allow.boolean().optional(),
  generator: allow.withMethods('an Rng (new Rng(seed))', ['random', 'getState', 'setState']).optional(),
  transform: allow
    .withMethods('a transform (data.transforms: an object with name and apply(x, { generator, training }))', [
      'apply',
    ])
    .optional(),
  reuseBatches: allow.boolean().optional(),
});
