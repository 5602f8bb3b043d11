/**
 * `Parameter`: a leaf tensor that a module owns and an optimizer updates in place. It is always
 * contiguous and covers its whole storage (so in-place kernels see exactly its elements), and
 * requires gradients unless created with `requiresGrad: false`.
 */
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** A trainable tensor owned by a Module. */
export class Parameter extends Tensor {
  /**
   * Wraps `value` (its storage is shared when it is contiguous and covers the storage, else copied).
   * @param requiresGrad default true
   */
  constructor(value: Tensor, requiresGrad = true) {
    const own =
      value.isContiguous() && value.offset === 0 && value.storage.length === value.size
        ? value
        : tensor(value);
    super(own.storage, [...own.shape], own.dtype);
    this.requiresGrad = requiresGrad;
  }
}
