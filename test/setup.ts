// Test setup: the same Node engine settings a user gets from `keel/node` or the CLI, and kernels'
// unzeroed outputs filled with NaN, so an element a kernel forgets to write cannot pass as 0.
import '../src/io/node/engine.js';
import { poisonUnzeroed } from '../src/backend/host.js';

poisonUnzeroed(true);
