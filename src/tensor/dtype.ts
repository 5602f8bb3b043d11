/**
 * dtype rules: which dtypes are floating point, type promotion between tensors (PyTorch's lattice
 * bool < uint8 < int32 < float32 < float64) and the dtype a JS number takes next to a tensor.
 */
import type { DType } from '../util/dtype.js';
import { DTypeError } from '../util/errors.js';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'uint8', 'bool'];

const rank: { [K in DType]: number } = { bool: 0, uint8: 1, int32: 2, float32: 3, float64: 4 };

let defaultFloat: 'float32' | 'float64' = 'float32';

/** True for float32 and float64. */
export function isFloat(dtype: DType): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype of two operands combined: the higher in bool < uint8 < int32 < float32 < float64. */
export function promote(a: DType, b: DType): DType {
  return rank[a] >= rank[b] ? a : b;
}

/** The floating dtype used when none is given (float32 unless changed by `setDefaultDType`). */
export function defaultFloatDType(): 'float32' | 'float64' {
  return defaultFloat;
}

/** Sets the default floating dtype for tensors created from JS numbers. */
export function setDefaultDType(dtype: 'float32' | 'float64'): void {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`setDefaultDType: expected 'float32' or 'float64', got '${String(dtype)}'`);
  }
  defaultFloat = dtype;
}

/** dtype for a JS scalar operand next to a tensor of `other` dtype (a scalar never widens a float tensor). */
export function scalarDType(value: number | boolean, other: DType): DType {
  if (typeof value === 'boolean') return other;
  if (isFloat(other)) return other;
  if (Number.isInteger(value)) return other === 'bool' ? 'int32' : other;
  return defaultFloat;
}

export { dtypeOfArray } from '../util/dtype.js';

/** Checks a user-given dtype name. */
export function checkDType(op: string, dtype: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new DTypeError(`${op}: unknown dtype '${dtype}' (allowed: ${DTYPES.join(', ')})`);
  }
  return dtype as DType;
}
