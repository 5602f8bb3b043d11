/**
 * Loading Fashion-MNIST for a command (train, experiment, demo, shift, diagnose), with the
 * instructions when it is missing (fashionMnist.ts). The splits read are kept for the life of the
 * process (keyed by directory and limit): a sweep's worker runs many trials, and ungzipping 30 MB
 * for each of them was a second of every short trial.
 */

import type { ImageSet } from '../../data/fashionMnist.js';
import { type FashionMnistOptions, locateFashionMnist, readFashionMnist } from './fashionMnist.js';

const cache = new Map<string, { train: ImageSet; test: ImageSet }>();

/** Loads both splits (throws DataNotFoundError with instructions when absent and not downloadable). */
export async function loadFashion(opts: FashionMnistOptions): Promise<{ train: ImageSet; test: ImageSet }> {
  const dir = await locateFashionMnist(opts);
  const key = `${dir}\u0000${opts.limit ?? ''}`;
  let sets = cache.get(key);
  if (!sets) {
    sets = {
      train: readFashionMnist(dir, 'train', opts.limit),
      test: readFashionMnist(dir, 'test', opts.limit),
    };
    cache.set(key, sets);
  }
  opts.log?.(
    `Fashion-MNIST from ${dir}: ${sets.train.labels.size} training and ${sets.test.labels.size} test images`,
  );
  return sets;
}
