/**
 * The webgpu backend's storage: elements in a GPU buffer from `base` (in elements) on, every element
 * one 32-bit word — float32 as f32, int32 as i32, bool as u32 0/1, and float64 as f32 (WGSL has no
 * 64-bit floats: a float64 tensor on webgpu holds float32 values; matrix products refuse float64).
 * The host reaches the elements only asynchronously: `read` copies them out through a mappable
 * buffer; `readSync` and `readElement` refuse with a message that says to `await read()` — except
 * where a host copy is known to be current, until the GPU next writes the storage: a small tensor
 * made from host values (`fromHost`, ≤ SHADOW_MAX elements: a loss's element count, a constant),
 * and storages copied by `prefetch` (Backend.sync: the parameters and optimizer state `fit` reads
 * at the end of an epoch). `write` is a host → GPU write at its place in the command order
 * (context.ts).
 *
 * A storage owns a pool buffer (given back when the storage is collected, or at once by
 * `release`), or is a slot of a compiled plan's arena (dead once the plan is disposed).
 */
import { arrayType, type DType, type TypedArray } from '../../util/dtype.js';
import { KeelError } from '../../util/errors.js';
import { isRowMajor, sizeOf } from '../../util/shape.js';
import { checkDoors, HostStorage, hostArray } from '../host.js';
import { nextSerial } from '../serial.js';
import type { Storage, Window } from '../types.js';
import type { GpuContext } from './context.js';
import type { GpuBuffer } from './gpu.js';

/** Elements of a host-made storage whose host copy is kept (see the file's header). */
export const SHADOW_MAX = 1024;

/** An arena that storages may live in: dead once its plan is disposed. */
export interface ArenaOwner {
  dead: boolean;
}

/** What a kernel needs of a storage: its buffer and where its element 0 is (in elements). */
export interface Place {
  readonly buffer: GpuBuffer;
  readonly base: number;
}

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ ctx: GpuContext; buffer: GpuBuffer }>((h) => h.ctx.recycle(h.buffer))
    : null;

/** Host values as the 32-bit words a storage of `dtype` holds. */
export function toWords(dtype: DType, values: ArrayLike<number>): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'float32':
    case 'float64':
      return values instanceof Float32Array ? values : Float32Array.from(values);
    case 'int32':
      return values instanceof Int32Array ? values : Int32Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint32Array.from(values instanceof Uint8Array ? values : Uint8Array.from(values));
    default:
      return dtype satisfies never;
  }
}

/** `count` words of `buf` as a host array of `dtype`. */
export function fromWords(dtype: DType, buf: ArrayBuffer, count: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, 0, count);
    case 'float64':
      return Float64Array.from(new Float32Array(buf, 0, count));
    case 'int32':
      return new Int32Array(buf, 0, count);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(new Uint32Array(buf, 0, count));
    default:
      return dtype satisfies never;
  }
}

/**
 * The elements of another backend's storage, to upload (tensors live where they were created).
 * Host memory is taken as it is: moving data is not a host read of values, so a compiled step's
 * trace may do it (its plan uploads the storage once).
 */
export function foreign(s: Storage): TypedArray {
  return s instanceof HostStorage ? hostArray(s) : s.readSync({ shape: [s.length], strides: [1], offset: 0 });
}

/** The lowest and highest element a window touches (relative to its storage's element 0). */
export function span(w: Window): [number, number] {
  let lo = w.offset;
  let hi = w.offset;
  for (let d = 0; d < w.shape.length; d++) {
    const reach = (w.shape[d] - 1) * w.strides[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  return [lo, hi];
}

/** Elements in a GPU buffer (see the file's header). */
export class GpuStorage implements Storage {
  /** @internal See `Storage.savedBy`. */
  savedBy = 0;
  readonly serial = nextSerial();
  readonly readSyncRefused = true;
  #released = false;
  #shadow: TypedArray | null;
  #version = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly buffer: GpuBuffer,
    /** Element 0's index in the buffer (in 32-bit words). */
    readonly base: number,
    readonly length: number,
    readonly dtype: DType,
    /** The plan arena it lives in, or null for a pool buffer it owns. */
    readonly arena: ArenaOwner | null,
    shadow: TypedArray | null = null,
  ) {
    this.#shadow = shadow;
  }

  /** A new storage over a pool buffer, given back when the storage is collected. */
  static create(ctx: GpuContext, dtype: DType, length: number, shadow: TypedArray | null = null): GpuStorage {
    const buffer = ctx.alloc(Math.max(length, 1) * 4);
    const s = new GpuStorage(ctx, buffer, 0, length, dtype, null, shadow);
    registry?.register(s, { ctx, buffer }, s);
    return s;
  }

  /** Where the elements are, for a kernel (throws for a released storage or a dead arena). */
  place(): Place {
    if (this.#released)
      throw new KeelError(
        'webgpu: this storage was released (its buffer went back to the pool); this is a bug in keel',
      );
    if (this.arena?.dead)
      throw new KeelError(
        'webgpu: this tensor lived in the buffers of a compiled step that was disposed; clone results you keep',
      );
    return this;
  }

  /**
   * Forgets the host copy: a kernel is about to write the storage on the GPU (in place, so the
   * context remembers it for `sync`).
   */
  touched(): void {
    this.#shadow = null;
    this.#version++;
    this.ctx.mutated(this);
  }

  /** Counts the writes since the storage was made (a host copy taken before one is stale). */
  get version(): number {
    return this.#version;
  }

  /** Copies the elements to the host: readSync and readElement answer until the next GPU write. */
  async prefetch(): Promise<void> {
    const v = this.#version;
    const all = await this.read({ shape: [this.length], strides: [1], offset: 0 });
    if (v === this.#version) this.#shadow = all;
  }

  /**
   * Takes the storage's words, read by the context when the storage was at `version` (Backend.sync),
   * as its host copy — unless something wrote it since.
   */
  prefetched(words: ArrayBuffer, version: number): void {
    if (!this.dead && version === this.#version) this.#shadow = fromWords(this.dtype, words, this.length);
  }

  /** Whether the storage can no longer be used (released, or its plan's arena disposed). */
  get dead(): boolean {
    return this.#released || this.arena?.dead === true;
  }

  /** Whether the host copy is current (see the file's header). */
  get shadowed(): boolean {
    return this.#shadow !== null;
  }

  private refuse(what: string): never {
    throw new KeelError(
      `webgpu: ${what} cannot read GPU memory synchronously; use \`await tensor.read()\` (or a CPU backend, setBackend('wasm'), for code that reads synchronously)`,
    );
  }

  readSync(w: Window): TypedArray {
    checkDoors('read');
    this.place();
    if (!this.#shadow) this.refuse('readSync()');
    return new HostStorage(this.#shadow).readSync(w);
  }

  readInto(w: Window, out: TypedArray): void {
    checkDoors('read');
    this.place();
    if (!this.#shadow) this.refuse('readInto()');
    new HostStorage(this.#shadow).readInto(w, out);
  }

  readElement(offset: number): number {
    checkDoors('read');
    this.place();
    if (!this.#shadow) this.refuse('item() / readElement()');
    return this.#shadow[offset];
  }

  async read(w: Window): Promise<TypedArray> {
    checkDoors('read');
    this.place();
    const n = sizeOf(w.shape);
    if (n === 0) return new (arrayType(this.dtype))(0);
    const [lo, hi] = span(w);
    const words = hi - lo + 1;
    const raw = await this.ctx.readBytes(this.buffer, (this.base + lo) * 4, words * 4);
    const all = fromWords(this.dtype, raw, words);
    const local = { shape: w.shape, strides: w.strides, offset: w.offset - lo };
    if (isRowMajor(local) && local.offset === 0 && n === words) return all;
    return new HostStorage(all).readSync(local);
  }

  write(w: Window, values: ArrayLike<number>): void {
    checkDoors('write');
    this.place();
    const n = sizeOf(w.shape);
    if (n === 0) return;
    this.#version++;
    if (this.#shadow) new HostStorage(this.#shadow).write(w, values);
    const words = toWords(this.dtype, values);
    if (isRowMajor(w)) {
      this.ctx.write(
        this.buffer,
        (this.base + w.offset) * 4,
        words.length === n ? words : words.subarray(0, n),
      );
      return;
    }
    const strided = this.ctx.stridedWrite;
    if (!strided) throw new KeelError('webgpu: strided writes need the backend (createWebGpuBackend)');
    strided(this, w, words.subarray(0, n));
  }

  release(): void {
    if (this.#released || this.arena !== null) return;
    this.#released = true;
    this.#shadow = null;
    registry?.unregister(this);
    this.ctx.recycle(this.buffer);
  }
}
