/**
 * The affine map of a fully connected layer: y = x·Wᵀ + b with W of shape [out, in] (PyTorch's
 * layout), as the fused `linear` primitive of ops/linear.ts.
 */
export { linear } from '../../ops/linear.js';
