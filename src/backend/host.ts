/**
 * Host memory, the storage of the CPU backends (js, wasm, native): a `HostStorage` wraps a typed
 * array, and its views are what the host kernels compute on (`HostView`). Kernel outputs come from
 * `allocate`, which recycles buffers instead of asking the engine for fresh ones:
 * - arrays of 65 B to 4 KB are carved from 64 KB slabs (a fresh ArrayBuffer has a fixed cost
 *   whatever its size, which dominated ops on small tensors); a region is reused only when its
 *   storage is released (`HostStorage.release`: a used gradient, a loader's used batch), else it
 *   goes with its slab;
 * - arrays of 64 KB and more come from a pool of buffers by size class (quarter steps between powers
 *   of two, so at most 25% is wasted). When the storage that owns a pooled buffer is collected, a
 *   FinalizationRegistry hands the buffer back. Fresh large buffers cost their first touch (page
 *   faults) and GC work, a recycled one only its zeroing (the numbers: bench/NOTES.md).
 * Finalizers run only when the event loop turns (`fit` yields every 10 ms), and until then the
 * registry holds the buffers it will hand back; so at most OUTSTANDING_MAX_BYTES are registered at a
 * time, and a long synchronous loop (a hand-written training loop that never awaits) gets plain
 * engine-managed buffers beyond that, never an unbounded pile.
 * Safety rests on one rule: a pooled array belongs to exactly one storage (`wrap` takes ownership
 * once), and nothing outside the storage keeps the array — the doors (`readSync`, `read`) copy,
 * kernels hold operands only during the call, and every view of a tensor shares its storage object.
 */
import { arrayType, bytesPerElement, type DType, dtypeOfArray, type TypedArray } from '../util/dtype.js';
import { KeelError } from '../util/errors.js';
import { isRowMajor } from '../util/shape.js';
import { nextSerial, noteMade } from './serial.js';
import type { Storage, View, Window } from './types.js';

/** A strided window onto a host array: what host kernels compute on. */
export interface HostView {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

const SLAB_MIN_BYTES = 65;
const SLAB_MAX_BYTES = 4096;
const SLAB_BYTES = 1 << 16;
let slab = new ArrayBuffer(0);
let slabUsed = SLAB_BYTES; // full: the first small array opens a slab
/** Slab regions given back by `HostStorage.release` (a loader's used labels), by size in bytes. */
const slabFree = new Map<number, { buffer: ArrayBuffer; byteOffset: number }[]>();
const SLAB_FREE_PER_SIZE = 64;
/** Arrays cut from a slab and not yet owned by a storage. */
const slabUnowned = new WeakSet<TypedArray>();

const POOL_MIN_BYTES = 1 << 16;
/** Free buffers kept per size class, and in all. */
const POOL_PER_CLASS = 512;
const POOL_MAX_BYTES = 512 << 20;
/** Bytes registered with the finalizer and not yet handed back. */
const OUTSTANDING_MAX_BYTES = 128 << 20;
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
let outstanding = 0;
/** Buffers handed out by `allocate` and not yet owned by a storage. */
const unowned = new WeakSet<ArrayBuffer>();
const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<ArrayBuffer>((buf) => {
        outstanding -= buf.byteLength;
        giveBack(buf);
      })
    : null;

/** False while a compiled step is traced: its eager temporaries take fresh, unpooled memory (`take`). */
let recycling = true;

/**
 * @internal Stops (true) or resumes (false) handing out recycled buffers; returns whether it was
 * stopped. The compile layer stops it while it traces a step: the trace's eager temporaries die with
 * it, and taking recycled buffers for them would take them from the loop's steady state (the batch
 * a loader just gave back), which would then need fresh ones. The temporaries are not pooled either
 * (plain engine memory, collected as usual), so traces never grow the free lists. Buffers given back
 * are kept either way.
 */
export function pauseRecycling(paused: boolean): boolean {
  const was = !recycling;
  recycling = !paused;
  return was;
}

/** @internal True while a compiled step is traced (`pauseRecycling(true)`). */
export function recyclingPaused(): boolean {
  return !recycling;
}

/** Puts a pool buffer on its size class's free list (unless the pool is full). */
function giveBack(buf: ArrayBuffer): void {
  const list = free.get(buf.byteLength);
  if (freeBytes + buf.byteLength > POOL_MAX_BYTES || (list && list.length >= POOL_PER_CLASS)) return;
  if (list) list.push(buf);
  else free.set(buf.byteLength, [buf]);
  freeBytes += buf.byteLength;
  stats.recycled++;
}

/**
 * What the pool did: fresh buffers and the bytes of every ArrayBuffer it made (slabs and small
 * arrays included), reused and recycled buffers, and how many arrays kernels asked for (`calls`).
 * For tests and benchmarks.
 */
export const stats = { fresh: 0, freshBytes: 0, reused: 0, recycled: 0, calls: 0 };

let poison = false;
/**
 * Tests: fill the arrays kernels ask for without zeroing with NaN (floats) or 0x5a5a… (integers),
 * fresh or recycled, so a kernel that leaves an element unwritten shows it at once.
 */
export function poisonUnzeroed(on: boolean): void {
  poison = on;
}

/** The pool's size class of a request: quarter steps between powers of two. */
function sizeClass(bytes: number): number {
  let p = POOL_MIN_BYTES;
  while (p * 2 <= bytes) p *= 2;
  const q = p / 4;
  return Math.ceil(bytes / q) * q;
}

/** Called before every read or write through a host storage's doors (see `guardDoors`). */
let doorGuard: ((access: 'read' | 'write') => void) | null = null;

/**
 * @internal Installs a check that runs before each read (`readSync`, `read`, `readElement`) and
 * write through a host storage's doors — the compile layer refuses host access while it traces a
 * step. Returns the previous guard.
 */
export function guardDoors(
  guard: ((access: 'read' | 'write') => void) | null,
): ((access: 'read' | 'write') => void) | null {
  const prev = doorGuard;
  doorGuard = guard;
  return prev;
}

/**
 * @internal Runs the guard of `guardDoors` for a read or write through the doors of a storage of
 * another kind (a GPU backend's), so tracing refuses host access to every storage alike.
 */
export function checkDoors(access: 'read' | 'write'): void {
  doorGuard?.(access);
}

/**
 * A host array of a dtype (slab, pool or fresh; see the file's header), zeroed unless `zero` is
 * false — for kernels that write every element, which need not pay for zeroing.
 */
export function allocate(dtype: DType, size: number, zero = true): TypedArray {
  stats.calls++;
  const out = take(dtype, size, zero);
  if (poison && !zero) out.fill(dtype === 'float32' || dtype === 'float64' ? Number.NaN : 0x5a5a5a5a);
  return out;
}

function take(dtype: DType, size: number, zero: boolean): TypedArray {
  const Ctor = arrayType(dtype);
  const bytes = size * bytesPerElement(dtype);
  if (bytes >= SLAB_MIN_BYTES && bytes <= SLAB_MAX_BYTES) {
    const region = recycling ? slabFree.get(bytes)?.pop() : undefined;
    if (region) {
      const out = new Ctor(region.buffer, region.byteOffset, size);
      if (zero) out.fill(0);
      slabUnowned.add(out);
      stats.reused++;
      return out;
    }
    if (slabUsed + bytes > SLAB_BYTES) {
      slab = new ArrayBuffer(SLAB_BYTES);
      slabUsed = 0;
      stats.freshBytes += SLAB_BYTES;
    }
    const at = slabUsed;
    slabUsed += (bytes + 15) & ~15;
    const out = new Ctor(slab, at, size);
    slabUnowned.add(out);
    return out;
  }
  // While a step is traced its eager temporaries are plain engine memory: pooled, they would join
  // the free lists when they die, and as a trace never takes from those, every trace (every trial of
  // a sweep worker) would add its temporaries to the pool for good (9.5 MiB a trial).
  if (bytes < POOL_MIN_BYTES || !registry || !recycling) {
    stats.freshBytes += bytes;
    return new Ctor(size);
  }
  const cls = sizeClass(bytes);
  const buf = free.get(cls)?.pop();
  let out: TypedArray;
  if (buf) {
    freeBytes -= cls;
    out = new Ctor(buf, 0, size);
    if (zero) out.fill(0);
    stats.reused++;
  } else {
    out = new Ctor(new ArrayBuffer(cls), 0, size);
    stats.fresh++;
    stats.freshBytes += cls;
  }
  unowned.add(out.buffer as ArrayBuffer);
  return out;
}

/** Host memory holding one tensor's elements (shared by all views of it). */
export class HostStorage implements Storage {
  readonly serial = nextSerial();
  /** @internal See `Storage.savedBy`. */
  savedBy = 0;
  #array: TypedArray;
  /** Set when the array is a pool buffer (or a slab region) this storage owns (see `wrap`). */
  #pooled: 'registered' | 'owned' | 'slab' | null = null;
  /** The memory region the elements live in, when they live in a WebAssembly memory. */
  #region: MemoryRegion | null = null;
  #byteOffset = 0;
  /** Why the storage was released, for the error that reading it afterwards throws. */
  #releasedBecause: string | null = null;
  readonly length: number;

  constructor(array: TypedArray) {
    this.#array = array;
    this.length = array.length;
    noteMade(this);
  }

  /**
   * A storage over `length` elements at `byteOffset` of a memory region (a compiled plan's arena
   * slot): its elements are those bytes, as long as the region lives.
   */
  static inRegion(region: MemoryRegion, byteOffset: number, dtype: DType, length: number): HostStorage {
    const s = new HostStorage(new (arrayType(dtype))(region.memory.buffer, byteOffset, length));
    s.#region = region;
    s.#byteOffset = byteOffset;
    return s;
  }

  /** The elements (a view into WebAssembly memory for storages that live there). */
  get array(): TypedArray {
    const r = this.#region;
    if (r !== null && (r.dead || this.#array.buffer !== r.memory.buffer)) this.#remake(r);
    return this.#array;
  }

  /** A view after the memory grew (a non-shared memory's old buffer is detached then). */
  #remake(r: MemoryRegion): void {
    if (r === RELEASED)
      throw new KeelError(
        this.#releasedBecause ??
          'this storage was released (its buffer went back to the pool); this is a bug in keel',
      );
    if (r.dead)
      throw new KeelError(
        'this tensor lived in the buffers of a compiled step that was disposed; clone results you keep',
      );
    this.#array = new (arrayType(this.dtype))(r.memory.buffer, this.#byteOffset, this.length);
  }

  /**
   * @internal Moves the elements into a region of a WebAssembly memory (a plan adopting a parameter
   * or a data set, so kernels read it in place); every view of the storage follows.
   */
  relocate(region: MemoryRegion, byteOffset: number): void {
    const to = new (arrayType(this.dtype))(region.memory.buffer, byteOffset, this.length);
    to.set(this.array);
    this.#array = to;
    this.#region = region;
    this.#byteOffset = byteOffset;
  }

  /** @internal `wrap` marks a storage owning a pool buffer (registered with the finalizer or not). */
  adoptPooled(registered: boolean | 'slab'): void {
    this.#pooled = registered === 'slab' ? 'slab' : registered ? 'registered' : 'owned';
  }

  /**
   * Gives a pool buffer back now (a gradient the backward sweep made and used up, a loader's used
   * batch); reading the storage afterwards throws, with `why` as the message when given. Storages of
   * other memory are left as they are.
   */
  release(why?: string): void {
    const pooled = this.#pooled;
    if (pooled === null || this.#region !== null) return;
    this.#pooled = null;
    this.#releasedBecause = why ?? null;
    if (pooled === 'slab') {
      // Its region of a slab, for the next small array of the same size (the slab itself is shared).
      const a = this.#array;
      const list = slabFree.get(a.byteLength) ?? [];
      if (list.length < SLAB_FREE_PER_SIZE)
        list.push({ buffer: a.buffer as ArrayBuffer, byteOffset: a.byteOffset });
      slabFree.set(a.byteLength, list);
      this.#region = RELEASED;
      return;
    }
    const buf = this.#array.buffer as ArrayBuffer;
    if (pooled === 'registered' && registry) {
      registry.unregister(this);
      outstanding -= buf.byteLength;
    }
    this.#region = RELEASED;
    giveBack(buf);
  }

  /** The WebAssembly memory region the elements live in, or null for plain host memory. */
  get region(): MemoryRegion | null {
    return this.#region;
  }

  /** Byte address of element 0 in the region's memory (0 when not in a region). */
  get byteOffset(): number {
    return this.#byteOffset;
  }

  get dtype(): DType {
    return dtypeOfArray(this.#array);
  }

  readSync(w: Window): TypedArray {
    const out = new (arrayType(this.dtype))(w.shape.reduce((a, b) => a * b, 1));
    this.readInto(w, out);
    return out;
  }

  readInto(w: Window, out: TypedArray): void {
    doorGuard?.('read');
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (isRowMajor(w)) out.set(this.array.subarray(w.offset, w.offset + n));
    else {
      const a = this.array;
      forEachRow(w, (off, start, n, st) => {
        for (let i = 0; i < n; i++) out[start + i] = a[off + i * st];
      });
    }
  }

  read(w: Window): Promise<TypedArray> {
    return Promise.resolve(this.readSync(w));
  }

  readElement(offset: number): number {
    doorGuard?.('read');
    return this.array[offset];
  }

  write(w: Window, values: ArrayLike<number>): void {
    doorGuard?.('write');
    const a = this.array;
    if (isRowMajor(w)) {
      if (ArrayBuffer.isView(values)) a.set(values as TypedArray, w.offset);
      else for (let i = 0; i < values.length; i++) a[w.offset + i] = values[i];
      return;
    }
    forEachRow(w, (off, start, n, st) => {
      for (let i = 0; i < n; i++) a[off + i * st] = values[start + i];
    });
  }
}

/**
 * A region of a WebAssembly memory that host storages may live in (a compiled plan's arena, an
 * adopted parameter). `release` runs once nothing holds the region any more (every storage in it
 * and its owner gone), or at `dispose` — after which its storages refuse to be read. `release` is
 * the finalizer's held value, so it must not reach the region: make it in a function of its own
 * (V8 gives all closures of one function a shared context, so a closure made beside others that
 * hold the region keeps it alive for ever — how every plan's arena once leaked; wasm/planRunner.ts).
 */
export class MemoryRegion {
  dead = false;
  constructor(
    readonly memory: WebAssembly.Memory,
    readonly at: number,
    readonly bytes: number,
    release: () => void,
  ) {
    regions?.register(this, release, this);
    this.#release = release;
  }
  readonly #release: () => void;

  /** Releases the region now; storages in it refuse to be read from then on. */
  dispose(): void {
    if (this.dead) return;
    this.dead = true;
    regions?.unregister(this);
    this.#release();
  }
}

const regions =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<() => void>((release) => release())
    : null;

/** The region of released storages: reading one throws (see `HostStorage.release`). */
const RELEASED = new MemoryRegion(
  { buffer: new ArrayBuffer(0) } as unknown as WebAssembly.Memory,
  0,
  0,
  () => {},
);
RELEASED.dead = true;

/** Host storage owning `array` (an `allocate`d buffer returns to the pool when the storage dies). */
export function wrap(array: TypedArray): HostStorage {
  const s = new HostStorage(array);
  const buf = array.buffer as ArrayBuffer;
  if (slabUnowned.delete(array)) s.adoptPooled('slab');
  else if (registry && unowned.delete(buf)) {
    const register = outstanding + buf.byteLength <= OUTSTANDING_MAX_BYTES;
    if (register) {
      registry.register(s, buf, s);
      outstanding += buf.byteLength;
    }
    s.adoptPooled(register);
  }
  return s;
}

/** The host array of a storage (CPU backends only). */
export function hostArray(s: Storage): TypedArray {
  if (s instanceof HostStorage) return s.array;
  throw new KeelError(`a ${s.constructor.name} is not in host memory; read it with readSync() or read()`);
}

/** The host view of a view (CPU backends only). */
export function hostView(v: View): HostView {
  return { data: hostArray(v.storage), shape: v.shape, strides: v.strides, offset: v.offset };
}

/**
 * Calls `run(offset, start, n, stride)` for each run along the innermost axis of a strided window:
 * elements offset, offset + stride, … sit at row-major positions start, start + 1, ….
 */
function forEachRow(
  w: Window,
  run: (offset: number, start: number, n: number, stride: number) => void,
): void {
  const r = w.shape.length;
  const total = w.shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  if (r === 0) {
    run(w.offset, 0, 1, 0);
    return;
  }
  const n = w.shape[r - 1];
  const inner = w.strides[r - 1];
  const idx = new Array<number>(r - 1).fill(0);
  let off = w.offset;
  for (let start = 0; start < total; start += n) {
    run(off, start, n, inner);
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      off += w.strides[d];
      if (idx[d] < w.shape[d]) break;
      off -= w.strides[d] * w.shape[d];
      idx[d] = 0;
    }
  }
}
