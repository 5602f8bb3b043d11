/** keel's functional API (PyTorch's `torch.nn.functional`): stateless versions of the layers. */

export { logSoftmax, softmax } from '../../ops/activation.js';
export { relu, sigmoid, tanh } from '../../ops/elementwise.js';
export * from './activation.js';
export * from './dropout.js';
export * from './linear.js';
export * from './loss.js';
export * from './noise.js';
export * from './normalization.js';
