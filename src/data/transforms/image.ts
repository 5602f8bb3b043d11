/**
 * A batch seen as images, for the spatial transforms: B samples of P planes (channels) of H × W
 * pixels — [B, H·W] rows (Fashion-MNIST's [N, 784]: square images unless `size` says otherwise),
 * [B, P·H·W] rows with `size`, or [B, …, H, W] — with the small tensors the transforms compute their
 * per-image choices on: draws of shape [B, 1, 1] and constants (pixel coordinates, tables) made once.
 */
import { getBackend } from '../../backend/registry.js';
import type { DType } from '../../backend/types.js';
import { cast } from '../../ops/elementwise.js';
import { sampleUniform } from '../../ops/random.js';
import { fromHost } from '../../tensor/create.js';
import { isFloat } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { arrayType } from '../../util/dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../../util/errors.js';
import type { Rng } from '../../util/random.js';
import type { Transform, TransformContext } from './types.js';

/** How a batch's elements are images. */
export interface ImageLayout {
  batch: number;
  planes: number;
  height: number;
  width: number;
}

/** Checks an image size option: two positive integers. */
export function checkSize(op: string, size: readonly number[] | undefined): void {
  if (size === undefined) return;
  if (size.length !== 2 || !size.every((d) => Number.isInteger(d) && d >= 1))
    throw new ValueError(`${op}: size must be [height, width], two positive integers, got [${size}]`);
}

/** The images of a float batch `x` (see the file's header); errors name the shape and what is allowed. */
export function imageLayout(op: string, x: Tensor, size?: readonly [number, number]): ImageLayout {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected float images, got ${x.dtype}`);
  if (x.ndim < 2)
    throw new ShapeError(
      `${op}: expected a batch of images [B, H·W] or [B, …, H, W], got ${fmtShape(x.shape)}`,
    );
  const batch = x.shape[0];
  if (x.ndim >= 3) {
    const height = x.shape[x.ndim - 2];
    const width = x.shape[x.ndim - 1];
    if (size && (size[0] !== height || size[1] !== width))
      throw new ShapeError(`${op}: size [${size}] does not match the images of ${fmtShape(x.shape)}`);
    const planes = x.shape.slice(1, -2).reduce((a, b) => a * b, 1);
    return { batch, planes, height, width };
  }
  const features = x.shape[1];
  if (size) {
    const pixels = size[0] * size[1];
    if (features % pixels !== 0)
      throw new ShapeError(
        `${op}: rows of ${features} features are not images of size [${size}] (${pixels} pixels per plane)`,
      );
    return { batch, planes: features / pixels, height: size[0], width: size[1] };
  }
  const side = Math.round(Math.sqrt(features));
  if (side * side !== features)
    throw new ShapeError(
      `${op}: rows of ${features} features are not square images; give size: [height, width], or images of shape [B, H, W]`,
    );
  return { batch, planes: 1, height: side, width: side };
}

/**
 * ⌊x⌋ for x ≥ 0, as int32: a cast to int32 truncates towards zero (as PyTorch's `.to(torch.int32)`),
 * which is the floor of a non-negative number.
 */
export function floorNonNegative(x: Tensor): Tensor {
  return cast(x, 'int32');
}

/**
 * One uniform draw on [low, high) per image, shape [B, 1, 1], float64 (its draws stay below `high`,
 * which float32 rounding could reach), drawn on the backend from `g`.
 */
export function perImage(batch: number, g: Rng, low = 0, high = 1): Tensor {
  return sampleUniform([batch, 1, 1], { generator: g, low, high, dtype: 'float64' });
}

const constants = new Map<string, Tensor>();

/**
 * The tensor of `shape` and `dtype` whose element k in row-major order is `f(k)`, made once per
 * backend, `key`, shape and dtype — the key must name every value `f` depends on besides those —
 * so that every step reads the same tensor (a compiled plan reads one constant).
 */
export function constant(
  key: string,
  shape: readonly number[],
  dtype: DType,
  f: (k: number) => number,
): Tensor {
  const id = `${getBackend()}|${key}|${shape.join(',')}|${dtype}`;
  let t = constants.get(id);
  if (!t) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new (arrayType(dtype))(n);
    for (let k = 0; k < n; k++) data[k] = f(k);
    t = fromHost(data, shape, dtype);
    constants.set(id, t);
  }
  return t;
}

/** Row numbers 0..H−1 within an image, [1, 1, H] int32. */
export const rowNumbers = (h: number) => constant('rows', [1, 1, h], 'int32', (i) => i);

/** The first row of each (image, plane) among the batch's rows of pixels, ((b·P + q)·H), [B, P, 1] int32. */
export const firstRows = (l: ImageLayout) =>
  constant(`first rows of ${l.height}-row planes`, [l.batch, l.planes, 1], 'int32', (r) => r * l.height);

/**
 * The shell every spatial transform shares: `size` checked when the transform is made; `apply` the
 * identity in eval or when `active` is false (p = 0, a shift of 0), else `body` on the batch's
 * layout with the context's generator.
 */
export function imageTransform(
  op: string,
  name: string,
  size: readonly [number, number] | undefined,
  active: boolean,
  body: (x: Tensor, l: ImageLayout, g: Rng) => Tensor,
): Transform {
  checkSize(op, size);
  return {
    name,
    apply(x: Tensor, ctx: TransformContext): Tensor {
      if (!ctx.training || !active) return x;
      return body(x, imageLayout(op, x, size), ctx.generator);
    },
  };
}
