/**
 * `Parameter`: a leaf tensor that a module owns and an optimizer updates in place. It is always
 * contiguous with its own buffer (so optimizers may write `data` directly) and requires gradients
 * unless created with `requiresGrad: false`.
 */
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** A trainable tensor owned by a Module. */
export class Parameter extends Tensor {
  /**
   * Wraps `value` (its buffer is shared when it is contiguous and unshared-looking, else copied).
   * @param requiresGrad default true
   */
  constructor(value: Tensor, requiresGrad = true) {
    const own =
      value.isContiguous() && value.offset === 0 && value.data.length === value.size ? value : tensor(value);
    super(own.data, [...own.shape], own.dtype);
    this.requiresGrad = requiresGrad;
  }
}
