/**
 * The list of differentiable primitives — every op name a graph node can carry. Tests key their
 * gradient-check tables by this type, so a primitive added here without a check fails `tsc`.
 */
export const PRIMITIVES = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'abs',
  'sign',
  'relu',
  'reluGrad',
  'sigmoid',
  'tanh',
  'erf',
  'cast',
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'where',
  'dropout',
  'crossEntropy',
  'sum',
  'amax',
  'amin',
  'matmul',
  'linear',
  'reshape',
  'permute',
  'expand',
  'slice',
  'sliceScatter',
  'contiguous',
  'concat',
  'gather',
  'scatterAdd',
  'indexSelect',
  'indexAdd',
] as const;

/** Name of a differentiable primitive. */
export type Primitive = (typeof PRIMITIVES)[number];
