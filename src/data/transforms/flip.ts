/**
 * Random horizontal flip: each image is mirrored left–right with probability p (torchvision's
 * `RandomHorizontalFlip`, default p = 0.5): its columns go through the mirror map or the identity
 * (remap.ts: one matrix product and one row gather for the whole batch).
 */
import { cast, lt } from '../../ops/elementwise.js';
import { ValueError } from '../../util/errors.js';
import { imageTransform, perImage } from './image.js';
import { remapImages } from './remap.js';
import type { Transform } from './types.js';

/** Options of `randomHorizontalFlip`. */
export interface FlipOptions {
  /** [height, width] of the images when the rows are not square images (default: inferred). */
  size?: [number, number];
}

/** Mirrors each training image left–right with probability `p` (default 0.5). */
export function randomHorizontalFlip(p = 0.5, opts: FlipOptions = {}): Transform {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  return imageTransform('randomHorizontalFlip', `randomHorizontalFlip(${p})`, opts.size, p > 0, (x, l, g) => {
    const w = l.width;
    const flip = cast(lt(perImage(l.batch, g), p), 'int32'); // map 1 (mirror) with probability p
    const maps = [(j: number) => j, (j: number) => w - 1 - j];
    return remapImages(x, l, null, flip, { key: `identity, mirror of width ${w}`, maps });
  });
}
