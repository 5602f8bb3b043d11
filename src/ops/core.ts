/**
 * Helpers shared by op definitions: wrapping kernel output as a tensor, views onto the same buffer,
 * turning JS scalars into 0-d tensors of the right dtype, and checks that name the op.
 */
import { backend } from '../backend/registry.js';
import type { Storage } from '../backend/types.js';
import { scalarDType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { arrayType, type DType } from '../util/dtype.js';
import { DTypeError, ValueError } from '../util/errors.js';
import './install.js';

/** A tensor operand or a JS scalar. */
export type Operand = Tensor | number | boolean;

/** Wraps a contiguous kernel result. */
export function fromKernel(storage: Storage, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(storage, [...shape], dtype);
}

/** A view of `t`'s storage with other shape/strides/offset (no autograd). */
export function viewOf(
  t: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  return new Tensor(t.storage, [...shape], t.dtype, [...strides], offset);
}

/** A contiguous copy of `t` in `dtype` (no autograd). */
export function copyAs(t: Tensor, dtype: DType = t.dtype): Tensor {
  return fromKernel(backend().unary('copy', t, dtype), t.shape, dtype);
}

/** Turns a JS scalar into a 0-d tensor whose dtype fits next to `other`. */
export function lift(x: Operand, other: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number' && typeof x !== 'boolean') {
    throw new ValueError(`expected a Tensor, number or boolean operand, got ${typeof x}`);
  }
  const dtype = scalarDType(x, other);
  const a = new (arrayType(dtype))(1);
  a[0] = typeof x === 'boolean' ? (x ? 1 : 0) : x;
  return new Tensor(backend().fromHost(a), [], dtype);
}

/** Lifts a pair of operands, at least one of which is a tensor. */
export function liftPair(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, lift(b, a.dtype)];
  if (b instanceof Tensor) return [lift(a, b.dtype), b];
  throw new ValueError(`${op}: at least one operand must be a Tensor, got ${typeof a} and ${typeof b}`);
}

/** Throws unless `t` has an integer dtype (index arguments). */
export function requireInt(op: string, what: string, t: Tensor): void {
  if (t.dtype !== 'int32') throw new DTypeError(`${op}: ${what} must be an int32 tensor, got ${t.dtype}`);
}
