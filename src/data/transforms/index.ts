/**
 * Input perturbations as data transforms (`data.transforms`): Gaussian noise, random translation,
 * horizontal flip and erasing, composable, drawn on the backend from a generator and the identity
 * outside training. A DataLoader's `transform` applies to its training batches (inside the compiled
 * step's batch gather when `fit` trains).
 */
export { compose } from './compose.js';
export { type ErasingOptions, randomErasing } from './erase.js';
export { type FlipOptions, randomHorizontalFlip } from './flip.js';
export { gaussianNoise } from './noise.js';
export { randomTranslate, type TranslateOptions } from './translate.js';
export type { Transform, TransformContext } from './types.js';
