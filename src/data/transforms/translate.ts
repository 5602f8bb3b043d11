/**
 * Random translation with zero fill: each image moves by (dy, dx), each drawn uniformly from the
 * integers −k…k, and the pixels it uncovers are 0 (torchvision's `RandomAffine(translate=…)` with
 * whole-pixel shifts and fill 0): output pixel (i, j) is input pixel (i − dy, j − dx) where that
 * lies in the image. The row shift picks rows, the column shift is one of 2k + 1 shift maps
 * (remap.ts: one matrix product and one row gather for the whole batch).
 */
import { sub } from '../../ops/elementwise.js';
import { ValueError } from '../../util/errors.js';
import { floorNonNegative, imageTransform, perImage } from './image.js';
import { remapImages } from './remap.js';
import type { Transform } from './types.js';

/** Options of `randomTranslate`. */
export interface TranslateOptions {
  /** [height, width] of the images when the rows are not square images (default: inferred). */
  size?: [number, number];
}

/** Shifts each training image by up to `maxShift` pixels along each axis, filling with 0. */
export function randomTranslate(maxShift: number, opts: TranslateOptions = {}): Transform {
  if (!(Number.isInteger(maxShift) && maxShift >= 0))
    throw new ValueError(`randomTranslate: maxShift must be an integer ≥ 0 (pixels), got ${maxShift}`);
  const k = maxShift;
  return imageTransform('randomTranslate', `randomTranslate(${k})`, opts.size, k > 0, (x, l, g) => {
    const w = l.width;
    // ⌊u·(2k+1)⌋ is uniform on 0…2k: dy = that − k; for dx, map number c shifts by c − k.
    const draw = () => floorNonNegative(perImage(l.batch, g, 0, 2 * k + 1));
    const dy = sub(draw(), k);
    const dx = draw();
    const maps = Array.from({ length: 2 * k + 1 }, (_, c) => (j: number) => {
      const s = j - (c - k);
      return s >= 0 && s < w ? s : -1;
    });
    return remapImages(x, l, dy, dx, { key: `shifts ±${k} of width ${w}`, maps });
  });
}
