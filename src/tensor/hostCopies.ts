/**
 * Host copies kept for reuse: `HostCopies.read(key, t)` copies a tensor's elements (row-major,
 * through its storage's read door) into an array kept under `key` and reused at the next read of
 * that key — for code that reads the same tensors again and again (the diagnostics' samples, the
 * lab's drawings). A fresh 800 KB host array costs ~2 ms of page faults where fresh memory is dear
 * (the dev VM's ~10 µs a 4 KB page); a copy into a warm one ~40 µs. An array is remade only when
 * the tensor's size or dtype changes.
 */
import { arrayType, type TypedArray } from '../util/dtype.js';
import type { Tensor } from './tensor.js';

/** Arrays kept per key, each refilled by `read`. */
export class HostCopies {
  private readonly arrays = new Map<string, TypedArray>();

  /** The elements of `t` in row-major order, in the array kept for `key` (valid until its next read). */
  read(key: string, t: Tensor): TypedArray {
    let a = this.arrays.get(key);
    if (!a || a.length !== t.size || !(a instanceof arrayType(t.dtype))) {
      a = new (arrayType(t.dtype))(t.size);
      this.arrays.set(key, a);
    }
    return t.readInto(a);
  }
}
