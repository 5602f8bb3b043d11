/**
 * The ops layer: every differentiable function of keel, plus the installation of Tensor methods
 * and of the few ops the autograd engine needs (accumulate, un-broadcast, cast).
 */
import { installGradOps } from '../autograd/engine.js';
import { add, cast } from './elementwise.js';
import { sumToShape } from './reduce.js';
import './methods.js';

installGradOps({ add: (a, b) => add(a, b), sumToShape, cast });

export * from './activation.js';
export type { Operand } from './core.js';
export * from './elementwise.js';
export * from './indexing.js';
export * from './matmul.js';
export { PRIMITIVES, type Primitive } from './primitives.js';
export * from './reduce.js';
export * from './shape.js';
