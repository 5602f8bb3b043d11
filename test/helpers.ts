/**
 * Test helpers: closeness checks with messages that show where values differ, and decoding of the
 * golden JSON tensors.
 */
import { expect } from 'vitest';
import { type DType, type NestedArray, Tensor, tensor } from '../src/index.js';

/** Encoded tensor as written by test/golden/generate.py. */
export interface Encoded {
  shape: number[];
  dtype: DType;
  data: (number | boolean)[];
}

export function decode(e: Encoded, dtype?: DType): Tensor {
  const d = dtype ?? e.dtype;
  return tensor(e.data as number[], { dtype: e.dtype === 'bool' ? 'bool' : d }).reshape(e.shape);
}

/** Asserts shape equality and |a − b| ≤ atol + rtol·|b| elementwise (NaN matches NaN, inf matches inf). */
export function expectClose(
  actual: Tensor,
  expected: Tensor | NestedArray,
  rtol = 1e-10,
  atol = 1e-12,
): void {
  const exp = expected instanceof Tensor ? expected : tensor(expected, { dtype: 'float64' });
  expect(actual.shape).toEqual(exp.shape);
  const a = actual.toTypedArray();
  const b = exp.toTypedArray();
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      expect(
        Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)),
        `element ${i}: got ${x}, expected ${y}`,
      ).toBe(true);
      continue;
    }
    const ok = Math.abs(x - y) <= atol + rtol * Math.abs(y);
    expect(ok, `element ${i}: got ${x}, expected ${y} (|diff| ${Math.abs(x - y)})`).toBe(true);
  }
}
