/**
 * What both conformance suites (test/conformance.test.ts for the CPU backends,
 * test/webgpu-conformance.test.ts for webgpu) run against js: the operand layouts of the binary
 * kernels, at sizes above the kernels' copy thresholds (contiguous, transposed, a slice,
 * row/column/scalar broadcast, a 3-D broadcast — views of tensors drawn with the suite's own `rnd`),
 * and the optimizer families with each of their flags.
 */
import { H, type OptimizerFamily } from '../src/backend/optimizer.js';
import type { View } from '../src/backend/types.js';
import type { Tensor } from '../src/index.js';
import * as k from '../src/index.js';

/** `t` broadcast to `shape`, as a kernel view. */
export function bcast(t: Tensor, shape: number[]): View {
  const e = k.expand(t, shape);
  return { storage: e.storage, shape: e.shape, strides: e.strides, offset: e.offset };
}

/** Named makers of operand pairs [a, b, output shape] in the layouts above. */
export function binaryLayouts(rnd: (shape: number[]) => Tensor): [string, () => [View, View, number[]]][] {
  const big = rnd([40, 30]);
  return [
    ['contiguous', () => [big, rnd([40, 30]), [40, 30]]],
    ['transposed a', () => [k.transpose(rnd([30, 40])), big, [40, 30]]],
    [
      'sliced a, transposed b',
      () => [k.narrow(rnd([40, 33]), 1, 2, 30), k.transpose(rnd([30, 40])), [40, 30]],
    ],
    ['row broadcast b', () => [big, bcast(rnd([30]), [40, 30]), [40, 30]]],
    ['column broadcast a', () => [bcast(rnd([40, 1]), [40, 30]), big, [40, 30]]],
    ['scalar b', () => [big, bcast(rnd([]), [40, 30]), [40, 30]]],
    [
      '3-D broadcast',
      () => [bcast(rnd([6, 1, 30]), [6, 20, 30]), bcast(rnd([20, 1]), [6, 20, 30]), [6, 20, 30]],
    ],
  ];
}

/** Every optimizer family with each of its flags: the hyper-parameter slots besides lr and decay. */
export const OPTIMIZER_CASES: [OptimizerFamily, Record<number, number>][] = [
  ['sgd', {}],
  ['sgd', { [H.momentum]: 0.9, [H.dampening]: 0.1, [H.first]: 1 }],
  ['sgd', { [H.momentum]: 0.9, [H.dampening]: 0.1 }],
  ['sgd', { [H.momentum]: 0.9, [H.nesterov]: 1 }],
  ['adam', { [H.beta1]: 0.9, [H.beta2]: 0.999, [H.eps]: 1e-8, [H.bc1]: 0.271, [H.sqrtBc2]: 0.0547 }],
  [
    'adam',
    { [H.beta1]: 0.8, [H.beta2]: 0.99, [H.eps]: 1e-6, [H.amsgrad]: 1, [H.bc1]: 0.5, [H.sqrtBc2]: 0.2 },
  ],
  ['rmsprop', { [H.alpha]: 0.99, [H.rmsEps]: 1e-8 }],
  ['rmsprop', { [H.alpha]: 0.9, [H.rmsEps]: 1e-8, [H.centered]: 1, [H.rmsMomentum]: 0.5 }],
  ['rmsprop', { [H.alpha]: 0.9, [H.rmsEps]: 1e-8, [H.rmsMomentum]: 0.5 }],
  ['adagrad', { [H.adagradEps]: 1e-10, [H.lrDecayFactor]: 0.9 }],
];
