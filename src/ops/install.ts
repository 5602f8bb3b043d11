/**
 * Wires the ops into the layers below them: installs the Tensor methods (methods.ts) and the few ops
 * the autograd engine needs (accumulate, un-broadcast, cast). Imported by ops/core.ts, which every
 * op module imports, so any use of any op — through the package index or a deep import — has both.
 * (Only function declarations are referenced here, which ES modules hoist, so import cycles are safe.)
 */
import { installGradOps } from '../autograd/engine.js';
import { add, cast } from './elementwise.js';
import './methods.js';
import { sumToShape } from './reduce.js';

installGradOps({ add: (a, b) => add(a, b), sumToShape, cast });
