/**
 * The `js` backend: the reference implementation of every kernel (float32 and float64, plus int32
 * and bool where meaningful). Plain TypeScript over typed arrays; the living spec that faster
 * backends are tested against.
 */
import type { Backend } from '../types.js';
import { softmaxCrossEntropy, softmaxCrossEntropyGrad } from './crossentropy.js';
import { dropout } from './dropout.js';
import { binary, copyInto, unary, where } from './elementwise.js';
import { gather, indexAdd, indexSelect, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { argReduce, reduce } from './reduce.js';
import { sgd } from './sgd.js';

export const jsBackend: Backend = {
  name: 'js',
  unary,
  binary,
  where,
  reduce,
  argReduce,
  matmul,
  gather,
  scatterAdd,
  indexSelect,
  indexAdd,
  copyInto,
  dropout,
  sgd,
  softmaxCrossEntropy,
  softmaxCrossEntropyGrad,
};
