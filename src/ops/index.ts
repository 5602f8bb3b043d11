/**
 * The ops layer: every differentiable function of keel, plus the installation of Tensor methods
 * and of the few ops the autograd engine needs (accumulate, un-broadcast, cast).
 */
import './install.js';

export * from './activation.js';
export type { Operand } from './core.js';
export * from './crossentropy.js';
export * from './dropout.js';
export * from './elementwise.js';
export * from './indexing.js';
export * from './inplace.js';
export * from './linear.js';
export * from './matmul.js';
export { PRIMITIVES, type Primitive } from './primitives.js';
export * from './random.js';
export * from './reduce.js';
export * from './shape.js';
