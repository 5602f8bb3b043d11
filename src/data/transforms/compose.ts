/** `compose(a, b, …)`: the transforms applied in order, each drawing from the same generator. */
import type { Tensor } from '../../tensor/tensor.js';
import type { Transform, TransformContext } from './types.js';

/** One transform that applies `transforms` left to right (none: the identity). */
export function compose(...transforms: Transform[]): Transform {
  return {
    name: `compose(${transforms.map((t) => t.name).join(', ')})`,
    apply(x: Tensor, ctx: TransformContext): Tensor {
      let y = x;
      for (const t of transforms) y = t.apply(y, ctx);
      return y;
    },
  };
}
