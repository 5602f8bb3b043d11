/**
 * Errors that help: each misuse throws a specific error class whose message names the op, the bad
 * value and what is allowed.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { AutogradError, AxisError, DTypeError, ShapeError, ValueError } from '../src/index.js';

const expectError = (fn: () => unknown, cls: new (...a: never[]) => Error, message: string | RegExp) => {
  expect(fn).toThrow(cls);
  expect(fn).toThrow(message);
};

describe('shape errors name the op and both shapes', () => {
  it('matmul', () => {
    expectError(
      () => k.matmul(k.zeros([2, 3]), k.zeros([4, 5])),
      ShapeError,
      'matmul: cannot multiply [2,3] by [4,5]',
    );
    expectError(() => k.matmul(k.zeros([3]), k.zeros([4])), ShapeError, 'matmul: cannot multiply [3] by [4]');
    expectError(
      () => k.matmul(k.zeros([2, 2, 3]), k.zeros([3, 3, 2])),
      ShapeError,
      /batch axes do not broadcast/,
    );
  });
  it('broadcasting', () => {
    expectError(
      () => k.add(k.zeros([2, 3]), k.zeros([4])),
      ShapeError,
      'add: cannot broadcast [2,3] with [4]',
    );
    expectError(
      () => k.where(k.tensor([true, false]), k.zeros([3]), 0),
      ShapeError,
      /where: cannot broadcast \[2\] with \[3\]/,
    );
  });
  it('reshape, expand, concat, stack', () => {
    expectError(
      () => k.zeros([2, 3]).reshape([4, 2]),
      ShapeError,
      'reshape: cannot reshape [2,3] (size 6) into [4,2]',
    );
    expectError(() => k.zeros([2, 3]).reshape([-1, -1]), ShapeError, /only one dimension can be -1/);
    expectError(() => k.zeros([2, 3]).expand([4, 3]), ShapeError, 'expand: cannot expand [2,3] to [4,3]');
    expectError(
      () => k.concat([k.zeros([2, 3]), k.zeros([3, 2])], 0),
      ShapeError,
      /concat: shapes \[2,3\], \[3,2\] differ outside axis 0/,
    );
    expectError(() => k.stack([k.zeros([2]), k.zeros([3])]), ShapeError, /same shape, got \[2\], \[3\]/);
  });
});

describe('axis errors give the allowed range', () => {
  it('out of range and repeated axes', () => {
    expectError(
      () => k.sum(k.zeros([2, 3]), 2),
      AxisError,
      'sum: axis 2 is out of range for a tensor of rank 2 (allowed -2..1)',
    );
    expectError(() => k.sum(k.zeros([2, 3]), [0, -2]), AxisError, /axis 0 appears twice/);
    expectError(() => k.softmax(k.zeros([2]), 1), AxisError, /softmax: axis 1 is out of range/);
    expectError(() => k.permute(k.zeros([2, 3]), [0, 0]), AxisError, /axes must be distinct/);
  });
});

describe('dtype errors', () => {
  it('indices must be int32; gradients need floats', () => {
    expectError(
      () => k.gather(k.zeros([2, 2]), 0, k.zeros([2, 2])),
      DTypeError,
      'gather: index must be an int32 tensor, got float32',
    );
    expectError(
      () => {
        k.tensor([1, 2], { dtype: 'int32' }).requiresGrad = true;
      },
      DTypeError,
      /only float32\/float64 tensors can require gradients, got int32/,
    );
  });
});

describe('value errors', () => {
  it('indices out of range, bad arguments', () => {
    const idx = k.tensor([0, 3], { dtype: 'int32' });
    expectError(
      () => k.indexSelect(k.zeros([3, 2]), 0, idx),
      ValueError,
      'indexSelect: index 3 is out of range for axis 0 of size 3 (allowed 0..2)',
    );
    expectError(() => k.oneHot(idx, 3), ValueError, /class 3 is out of range 0..2/);
    expectError(() => k.linspace(0, 1, -1), ValueError, /steps must be a non-negative integer, got -1/);
    expectError(() => k.clamp(k.zeros([1]), 2, 1), ValueError, /min must be ≤ max, got min=2, max=1/);
    expectError(
      () => k.narrow(k.zeros([3]), 0, 2, 2),
      ValueError,
      /start 2 with length 2 does not fit axis 0 of size 3/,
    );
    expectError(
      () => k.setBackend('cuda'),
      ValueError,
      /unknown backend 'cuda' \(available: (native, )?wasm, js/,
    );
    expectError(() => k.amax(k.zeros([0])), ValueError, /cannot reduce axis 0 of size 0/);
  });
});

describe('autograd errors', () => {
  it('non-scalar backward without a gradient', () => {
    const x = k.ones([2, 3], { requiresGrad: true });
    expectError(
      () => k.mul(x, 2).backward(),
      AutogradError,
      /got shape \[2,3\]; pass a gradient of that shape/,
    );
  });
});

describe('errors name the function the user called', () => {
  it('creation functions name themselves for a bad shape', () => {
    expectError(
      () => k.randn([-2, 3]),
      ValueError,
      'randn: shape entries must be non-negative integers, got [-2,3]',
    );
    expectError(() => k.rand([2, 1.5]), ValueError, /^rand: shape entries/);
    expectError(() => k.zeros([-1]), ValueError, /^zeros: /);
    expectError(() => k.ones([-1]), ValueError, /^ones: /);
    expectError(() => k.randint(0, 3, [-1]), ValueError, /^randint: /);
    expectError(() => k.bernoulli(0.5, [-1]), ValueError, /^bernoulli: /);
    expectError(
      () => k.full('x' as unknown as number[], 1),
      ValueError,
      'full: shape must be an array of non-negative integers, got "x"',
    );
  });

  it('loadStateDict: null and malformed state dicts are StateDictErrors that say what was given', () => {
    const m = new k.nn.Linear(2, 2);
    const load = (sd: unknown) => () => m.loadStateDict(sd as Record<string, k.Tensor>);
    for (const [bad, what] of [
      [null, 'null'],
      [undefined, 'undefined'],
      [5, 'number'],
      [[], 'an array'],
    ] as const)
      expectError(
        load(bad),
        k.nn.StateDictError,
        `loadStateDict(Linear): expected an object mapping names to tensors (as stateDict() returns), got ${what}`,
      );
    expectError(
      load({ weight: [1, 2], bias: null }),
      k.nn.StateDictError,
      'loadStateDict(Linear): entries must be tensors; not tensors: weight (an array), bias (null)',
    );
  });
});
