/**
 * The dtype vocabulary, below every other layer (DESIGN.md §2): the element types of keel tensors,
 * the typed array that holds each on the host, and the one switch between them.
 */

/** Element types of keel tensors. */
export type DType = 'float32' | 'float64' | 'int32' | 'uint8' | 'bool';

/**
 * Host memory of one dtype: float32 → Float32Array, float64 → Float64Array, int32 → Int32Array,
 * uint8 → Uint8Array (bytes as stored, e.g. an image's pixels), bool → Uint8Array (0/1).
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A typed-array constructor. */
export type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor;

const ctors: { [K in DType]: TypedArrayConstructor } = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** The typed-array constructor of a dtype. */
export function arrayType(dtype: DType): TypedArrayConstructor {
  return ctors[dtype];
}

/** Bytes per element of a dtype. */
export function bytesPerElement(dtype: DType): number {
  return ctors[dtype].BYTES_PER_ELEMENT;
}

/** The dtype a typed array holds (a Uint8Array: bool — name uint8 where bytes are meant). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}
