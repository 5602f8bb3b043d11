/** Loading Fashion-MNIST for the CLI, with the instructions printed when it is missing. */

import type { ImageSet } from '../data/fashionMnist.js';
import { type FashionMnistOptions, loadFashionMnist } from '../io/node/fashionMnist.js';

/** Loads both splits (throws DataNotFoundError with instructions when absent and not downloadable). */
export async function loadFashion(opts: FashionMnistOptions): Promise<{ train: ImageSet; test: ImageSet }> {
  const { train, test, dir } = await loadFashionMnist(opts);
  opts.log?.(`Fashion-MNIST from ${dir}: ${train.labels.size} training and ${test.labels.size} test images`);
  return { train, test };
}
