/**
 * Random erasing (Zhong et al. 2017; cutout, DeVries & Taylor 2017, is its fixed-size cousin): with
 * probability p, a rectangle of each image is set to `value`. As torchvision's `RandomErasing`: its
 * area is a uniform fraction of the image in `scale`, its aspect ratio h/w log-uniform in `ratio`,
 * h = round(√(area·ratio)), w = round(√(area/ratio)), its top-left corner uniform among the places
 * where it fits, every plane erased alike. Where torchvision redraws a rectangle that does not fit
 * (up to ten times), this clamps its sides to the image's — one draw per image, no host loop.
 * Each row of pixels is kept whole or has columns [left, left + w) erased: a row of a constant
 * table of such patterns, gathered per row (`indexSelect`) and multiplied in.
 */
import { add, clamp, div, exp, ge, lt, mul, sqrt, sub, where } from '../../ops/elementwise.js';
import { indexSelect } from '../../ops/indexing.js';
import { expand, reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../util/errors.js';
import { constant, floorNonNegative, imageTransform, perImage, rowNumbers } from './image.js';
import type { Transform } from './types.js';

/** Options of `randomErasing` (torchvision's defaults). */
export interface ErasingOptions {
  /** Probability that an image gets a rectangle (default 0.5). */
  p?: number;
  /** Range of the rectangle's area as a fraction of the image (default [0.02, 0.33]). */
  scale?: [number, number];
  /** Range of its aspect ratio height/width (default [0.3, 3.3]). */
  ratio?: [number, number];
  /** The value written into it (default 0). */
  value?: number;
  /** [height, width] of the images when the rows are not square images (default: inferred). */
  size?: [number, number];
}

/** Erases a random rectangle of each training image with probability `p` (see the file's header). */
export function randomErasing(opts: ErasingOptions = {}): Transform {
  const p = opts.p ?? 0.5;
  const [sLo, sHi] = opts.scale ?? [0.02, 0.33];
  const [rLo, rHi] = opts.ratio ?? [0.3, 3.3];
  const value = opts.value ?? 0;
  if (!(p >= 0 && p <= 1)) throw new ValueError(`randomErasing: p must be in [0, 1], got ${p}`);
  if (!(sLo > 0 && sLo <= sHi && sHi <= 1))
    throw new ValueError(`randomErasing: scale must be [lo, hi] with 0 < lo ≤ hi ≤ 1, got [${opts.scale}]`);
  if (!(rLo > 0 && rLo <= rHi && Number.isFinite(rHi)))
    throw new ValueError(
      `randomErasing: ratio must be [lo, hi] with 0 < lo ≤ hi, finite, got [${opts.ratio}]`,
    );
  if (!Number.isFinite(value)) throw new ValueError(`randomErasing: value must be finite, got ${value}`);
  const name = `randomErasing(p=${p}, scale=[${sLo}, ${sHi}], ratio=[${rLo}, ${rHi}], value=${value})`;
  return imageTransform('randomErasing', name, opts.size, p > 0, (x, l, g) => {
    const { batch: b, planes, height: h, width: w } = l;
    // Per image ([B,1,1]): area, aspect ratio, sides, corner, whether to erase at all.
    const area = perImage(b, g, sLo * h * w, sHi * h * w);
    const ratio = exp(perImage(b, g, Math.log(rLo), Math.log(rHi)));
    const side = (v: Tensor, max: number) => clamp(floorNonNegative(add(sqrt(v), 0.5)), 1, max);
    const rh = side(mul(area, ratio), h);
    const rw = side(div(area, ratio), w);
    const top = floorNonNegative(mul(perImage(b, g), add(sub(h, rh), 1)));
    const left = floorNonNegative(mul(perImage(b, g), add(sub(w, rw), 1)));
    const on = lt(perImage(b, g), p);
    // Table rows: pattern left·W + (w − 1) zeroes columns [left, left + w) (left + w ≤ W here);
    // the last row, W², keeps the whole row.
    const keeps = (e: number) => {
      const r = Math.floor(e / w);
      const j = e % w;
      const lo = Math.floor(r / w);
      return r === w * w || j < lo || j > lo + (r % w) ? 1 : 0;
    };
    const keep = constant(`erasing patterns of width ${w}`, [w * w + 1, w], x.dtype, keeps);
    const rows = rowNumbers(h);
    const erased = mul(mul(ge(rows, top), lt(rows, add(top, rh))), on); // [B,1,H]
    const pattern = where(erased, add(mul(left, w), sub(rw, 1)), w * w); // [B,1,H]
    const index = reshape(expand(pattern, [b, planes, h]), [b * planes * h]);
    const kept = mul(reshape(x, [b * planes * h, w]), indexSelect(keep, 0, index));
    if (value === 0) return reshape(kept, x.shape);
    const fill = constant(`erasing fill ${value} of width ${w}`, [w * w + 1, w], x.dtype, (e) =>
      keeps(e) ? 0 : value,
    );
    return reshape(add(kept, indexSelect(fill, 0, index)), x.shape);
  });
}
