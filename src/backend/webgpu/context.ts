/**
 * The webgpu backend's hold on one device: compute pipelines cached by kernel key, bind group
 * layouts by binding count, a pool of storage buffers by size class, and ONE pending command
 * encoder that every kernel — eager or a compiled plan's — records into, in program order.
 *
 * Ordering is the contract: the GPU executes commands in the order they were recorded, so a buffer
 * given back to the pool may be reused at once (earlier reads of it are recorded before later
 * writes). Host → GPU writes keep that order too: with nothing pending they go straight to
 * `queue.writeBuffer`; with commands pending, small ones are staged in an upload buffer and copied
 * by a command recorded at their place (large ones flush first). Kernel parameters of eager
 * dispatches go into a ring of 256-byte blocks written before the submit.
 *
 * The pending encoder is submitted (`flush`) when the host reads (`readBytes`: a copy into a
 * mappable buffer, then `mapAsync`), every FLUSH_EVERY dispatches, and at the end of the current
 * JavaScript task (a microtask): work recorded between two awaits — a whole training step — goes
 * to the GPU as one command buffer. Errors the device reports asynchronously (validation, a lost
 * device) and index errors kernels write into a small error buffer are thrown at the next read or
 * flush as KeelErrors.
 */
import { KeelError, ValueError } from '../../util/errors.js';
import type { Window } from '../types.js';
import {
  type GpuBindGroupEntry,
  type GpuBuffer,
  type GpuCommandEncoder,
  type GpuComputePass,
  type GpuDevice,
  type GpuHandle,
  type GpuLimits,
  MAP_READ,
  STAGE_COMPUTE,
  Usage,
} from './gpu.js';
import type { GpuStorage } from './storage.js';

/** One dispatch of a kernel: what a kernel builder returns, eager or for a plan. */
export interface KernelCall {
  /** The pipeline's cache key: everything the WGSL depends on. */
  readonly key: string;
  /** The kernel's WGSL (called once per key). */
  readonly code: () => string;
  /** The storage buffers bound at 0, 1, …, in slot order (the uniform parameters follow). */
  readonly buffers: readonly GpuBuffer[];
  /** The parameter block (PARAM_WORDS words). */
  readonly params: Uint32Array;
  /** Workgroups to dispatch. */
  readonly grid: readonly [number, number, number];
  /**
   * Per-run values (a dropout key drawn from a generator, an optimizer's hyper-parameters) written
   * into `params`: once for an eager dispatch, before every run in a plan.
   */
  readonly refresh?: (params: Uint32Array) => void;
}

/** Words of a kernel's parameter block (one 256-byte uniform block). */
export const PARAM_WORDS = 64;
const PARAM_BYTES = 4 * PARAM_WORDS;
/** Eager dispatches between submits. */
const FLUSH_EVERY = 1024;
const RING_SLOTS = FLUSH_EVERY;
/** Bytes staged for small host → GPU writes while commands are pending. */
const UPLOAD_BYTES = 1 << 20;
const UPLOAD_INLINE_MAX = 256 << 10;
/** Free pool buffers kept, in bytes. */
const POOL_MAX_BYTES = 1 << 30;
const BUFFER_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

/** What the context did, for tests and benchmarks (counts since the context was made). */
export interface GpuStats {
  submits: number;
  dispatches: number;
  passes: number;
  pipelines: number;
  reads: number;
  /** Host → GPU writes (direct or staged). */
  writes: number;
  /** Storage buffers created (not taken from the pool). */
  buffers: number;
}

/** Codes the kernels write into the error buffer (what a read then throws). */
export const ERROR_KINDS = ['', 'gather', 'scatterAdd', 'indexSelect', 'indexAdd', 'crossEntropy'] as const;

/** The pool's size class of a request: quarter steps between powers of two, at least 256 bytes. */
function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  let p = 256;
  while (p * 2 <= bytes) p *= 2;
  const q = p / 4;
  return Math.ceil(bytes / q) * q;
}

export class GpuContext {
  readonly queue: GpuDevice['queue'];
  readonly limits: GpuLimits;
  readonly stats: GpuStats = {
    submits: 0,
    dispatches: 0,
    passes: 0,
    pipelines: 0,
    reads: 0,
    writes: 0,
    buffers: 0,
  };
  /** Holds the first index error a kernel found (4 words: count, kind·16 + axis, value, size). */
  readonly errorBuffer: GpuBuffer;
  private readonly layouts = new Map<number, { group: GpuHandle; pipeline: GpuHandle }>();
  private readonly pipelines = new Map<string, GpuHandle>();
  private readonly free = new Map<number, GpuBuffer[]>();
  private freeBytes = 0;
  private readonly staging: GpuBuffer[] = [];
  private readonly ids = new WeakMap<GpuBuffer, number>();
  private nextId = 1;
  private readonly groups = new Map<string, GpuHandle>();
  private enc: GpuCommandEncoder | null = null;
  private pass: GpuComputePass | null = null;
  private pending = 0;
  private readonly ring: GpuBuffer;
  private readonly ringHost = new Uint32Array(RING_SLOTS * PARAM_WORDS);
  private ringUsed = 0;
  private readonly upload: GpuBuffer;
  private readonly uploadHost = new Uint8Array(UPLOAD_BYTES);
  private uploadUsed = 0;
  private scheduled = false;
  private failure: string | null = null;
  /** An error a microtask's flush threw, for the next caller. */
  private deferred: Error | null = null;
  private lost: string | null = null;
  /**
   * Writes host words into a strided window of a storage (set by the backend: an upload, then its
   * copy kernel); storages call it for a `write` that is not one contiguous run.
   */
  stridedWrite: ((s: GpuStorage, w: Window, words: ArrayBufferView) => void) | null = null;
  /** Storages kernels wrote in place (parameters, optimizer state, sums), for `sync`. */
  private readonly inPlace = new Map<number, WeakRef<GpuStorage>>();

  constructor(readonly device: GpuDevice) {
    this.queue = device.queue;
    this.limits = device.limits;
    this.errorBuffer = device.createBuffer({ size: 16, usage: BUFFER_USAGE, label: 'keel errors' });
    this.ring = device.createBuffer({
      size: RING_SLOTS * PARAM_BYTES,
      usage: Usage.UNIFORM | Usage.COPY_DST,
      label: 'keel params',
    });
    this.upload = device.createBuffer({
      size: UPLOAD_BYTES,
      usage: Usage.COPY_SRC | Usage.COPY_DST,
      label: 'keel uploads',
    });
    device.addEventListener?.('uncapturederror', (e) => {
      this.failure ??= e.error?.message ?? 'an error without a message';
    });
    device.lost.then(
      (info) => {
        this.lost = info?.message || info?.reason || 'no reason given';
      },
      () => {},
    );
  }

  /** Throws what the device reported since the last check (a validation error, a lost device). */
  check(): void {
    const d = this.deferred;
    if (d) {
      this.deferred = null;
      throw d;
    }
    if (this.lost !== null)
      throw new KeelError(`webgpu: the GPU device was lost (${this.lost}); set another backend or restart`);
    const f = this.failure;
    if (f !== null) {
      this.failure = null;
      throw new KeelError(`webgpu: the GPU reported an error in work recorded earlier: ${f}`);
    }
  }

  /** The bind group layout and pipeline layout of kernels with `storages` storage bindings. */
  layout(storages: number): { group: GpuHandle; pipeline: GpuHandle } {
    let l = this.layouts.get(storages);
    if (!l) {
      const entries: unknown[] = [];
      for (let i = 0; i < storages; i++)
        entries.push({ binding: i, visibility: STAGE_COMPUTE, buffer: { type: 'storage' } });
      entries.push({
        binding: storages,
        visibility: STAGE_COMPUTE,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_BYTES },
      });
      const group = this.device.createBindGroupLayout({ entries });
      l = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(storages, l);
    }
    return l;
  }

  /** The compute pipeline of a call (compiled once per key). */
  pipeline(call: KernelCall): GpuHandle {
    let p = this.pipelines.get(call.key);
    if (!p) {
      const max = this.limits.maxStorageBuffersPerShaderStage;
      if (call.buffers.length > max)
        throw new KeelError(
          `webgpu: kernel ${call.key} binds ${call.buffers.length} storage buffers; this adapter allows ${max}`,
        );
      const module = this.device.createShaderModule({ code: call.code(), label: call.key });
      p = this.device.createComputePipeline({
        layout: this.layout(call.buffers.length).pipeline,
        compute: { module, entryPoint: 'main' },
        label: call.key,
      });
      this.pipelines.set(call.key, p);
      this.stats.pipelines++;
    }
    return p;
  }

  /** A bind group of `buffers` (whole) and the uniform block `params` (dynamic offset). */
  bindGroup(buffers: readonly GpuBuffer[], params: GpuBuffer, cache: boolean): GpuHandle {
    const key = cache ? `${buffers.map((b) => this.id(b)).join(',')}|${this.id(params)}` : '';
    const hit = cache ? this.groups.get(key) : undefined;
    if (hit) return hit;
    const entries: GpuBindGroupEntry[] = buffers.map((buffer, binding) => ({
      binding,
      resource: { buffer },
    }));
    entries.push({ binding: buffers.length, resource: { buffer: params, offset: 0, size: PARAM_BYTES } });
    const g = this.device.createBindGroup({ layout: this.layout(buffers.length).group, entries });
    if (cache) {
      if (this.groups.size >= 4096) this.groups.clear();
      this.groups.set(key, g);
    }
    return g;
  }

  private id(b: GpuBuffer): number {
    let i = this.ids.get(b);
    if (i === undefined) {
      i = this.nextId++;
      this.ids.set(b, i);
    }
    return i;
  }

  /** A storage buffer of at least `bytes` (from the pool when one of its size class is free). */
  alloc(bytes: number): GpuBuffer {
    const max = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > max)
      throw new ValueError(
        `webgpu: a tensor of ${bytes} bytes is larger than this adapter allows in one buffer (${max} bytes); keep it on a CPU backend and move batches`,
      );
    let cls = sizeClass(bytes);
    if (cls > max) cls = Math.ceil(bytes / 4) * 4;
    const list = this.free.get(cls);
    const b = list?.pop();
    if (b) {
      this.freeBytes -= cls;
      return b;
    }
    this.stats.buffers++;
    return this.device.createBuffer({ size: cls, usage: BUFFER_USAGE });
  }

  /** Gives a buffer back to the pool (or destroys it when the pool is full). */
  recycle(b: GpuBuffer): void {
    if (this.freeBytes + b.size > POOL_MAX_BYTES) {
      this.groups.clear();
      b.destroy();
      return;
    }
    const list = this.free.get(b.size);
    if (list) list.push(b);
    else this.free.set(b.size, [b]);
    this.freeBytes += b.size;
  }

  /** The pending encoder (made when none is). */
  encoder(): GpuCommandEncoder {
    if (this.lost !== null) this.check();
    this.enc ??= this.device.createCommandEncoder();
    return this.enc;
  }

  /** The open compute pass of the pending encoder (opened when none is). */
  openPass(): GpuComputePass {
    if (!this.pass) {
      this.pass = this.encoder().beginComputePass();
      this.stats.passes++;
    }
    return this.pass;
  }

  /** Ends the open compute pass (before a copy command). */
  endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Records one eager dispatch (its parameters into the ring). */
  dispatch(call: KernelCall): void {
    call.refresh?.(call.params);
    const pipeline = this.pipeline(call);
    if (this.ringUsed >= RING_SLOTS) this.flush();
    const slot = this.ringUsed++;
    this.ringHost.set(call.params, slot * PARAM_WORDS);
    const group = this.bindGroup(call.buffers, this.ring, true);
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [slot * PARAM_BYTES]);
    pass.dispatchWorkgroups(call.grid[0], call.grid[1], call.grid[2]);
    this.recorded(1);
  }

  /** Counts `n` dispatches recorded into the pending encoder; submits every FLUSH_EVERY. */
  recorded(n: number): void {
    this.stats.dispatches += n;
    this.pending += n;
    if (this.pending >= FLUSH_EVERY) this.flush();
    else this.schedule();
  }

  /** Submits the pending work at the end of the current task. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      try {
        this.flush();
      } catch (e) {
        this.deferred ??= e as Error;
      }
    });
  }

  /** Whether commands are recorded and not yet submitted. */
  get busy(): boolean {
    return this.enc !== null;
  }

  /**
   * Writes host data into a buffer at its place in the command order (see the file's header).
   * `data`'s byte length must be a multiple of 4.
   */
  write(buffer: GpuBuffer, byteOffset: number, data: ArrayBufferView): void {
    const bytes = data.byteLength;
    if (bytes === 0) return;
    this.stats.writes++;
    if (this.enc && bytes <= UPLOAD_INLINE_MAX) {
      if (this.uploadUsed + bytes > UPLOAD_BYTES) this.flush();
      else {
        const at = this.uploadUsed;
        this.uploadHost.set(new Uint8Array(data.buffer, data.byteOffset, bytes), at);
        this.uploadUsed += Math.ceil(bytes / 4) * 4;
        this.endPass();
        (this.enc as GpuCommandEncoder).copyBufferToBuffer(this.upload, at, buffer, byteOffset, bytes);
        this.schedule();
        return;
      }
    }
    if (this.enc) this.flush();
    this.queue.writeBuffer(buffer, byteOffset, data);
  }

  /** Records a buffer-to-buffer copy (bytes a multiple of 4). */
  copy(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.endPass();
    this.encoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.schedule();
  }

  /** Submits the pending encoder (with the parameters and uploads it reads). */
  flush(): void {
    this.check();
    if (!this.enc) return;
    this.endPass();
    if (this.ringUsed > 0)
      this.queue.writeBuffer(this.ring, 0, this.ringHost, 0, this.ringUsed * PARAM_WORDS);
    if (this.uploadUsed > 0) this.queue.writeBuffer(this.upload, 0, this.uploadHost, 0, this.uploadUsed);
    const cmd = this.enc.finish();
    this.enc = null;
    this.ringUsed = 0;
    this.uploadUsed = 0;
    this.pending = 0;
    this.queue.submit([cmd]);
    this.stats.submits++;
    this.check();
  }

  /**
   * Reads `bytes` (a multiple of 4) at `byteOffset` of a buffer: submits the pending work with a
   * copy into a mappable buffer and waits for it. Throws the first index error a kernel reported.
   */
  readBytes(buffer: GpuBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    const st = this.copyOut(buffer, byteOffset, bytes);
    this.flush();
    return this.mapped(st, bytes);
  }

  /** Several reads with one submit (Backend.sync's copies of every storage written in place). */
  readMany(
    parts: readonly { buffer: GpuBuffer; byteOffset: number; bytes: number }[],
  ): Promise<ArrayBuffer[]> {
    const staged = parts.map((r) => this.copyOut(r.buffer, r.byteOffset, r.bytes));
    this.flush();
    return Promise.all(staged.map((st, i) => this.mapped(st, parts[i].bytes)));
  }

  /** Records the copy of a read (and of the error words after it) into a mappable buffer. */
  private copyOut(buffer: GpuBuffer, byteOffset: number, bytes: number): GpuBuffer {
    this.stats.reads++;
    const size = bytes + 16;
    const i = this.staging.findIndex((s) => s.size >= size);
    const st =
      i >= 0
        ? (this.staging.splice(i, 1)[0] as GpuBuffer)
        : this.device.createBuffer({ size: sizeClass(size), usage: Usage.MAP_READ | Usage.COPY_DST });
    this.endPass();
    const enc = this.encoder();
    if (bytes > 0) enc.copyBufferToBuffer(buffer, byteOffset, st, 0, bytes);
    enc.copyBufferToBuffer(this.errorBuffer, 0, st, bytes, 16);
    return st;
  }

  /** Waits for a copy made by copyOut and returns its bytes (throwing a reported index error). */
  private async mapped(st: GpuBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = bytes + 16;
    try {
      await st.mapAsync(MAP_READ, 0, size);
    } catch (e) {
      this.check();
      throw new KeelError(`webgpu: reading from the GPU failed: ${(e as Error).message}`);
    }
    const out = st.getMappedRange(0, size).slice(0);
    st.unmap();
    if (this.staging.length < 16) this.staging.push(st);
    else st.destroy();
    this.check();
    const err = new Uint32Array(out, bytes, 4);
    if (err[0] !== 0) {
      const [, code, value, n] = err;
      this.write(this.errorBuffer, 0, new Uint32Array(4));
      throw indexError(code, value | 0, n);
    }
    return out.slice(0, bytes);
  }

  /** Remembers a storage written in place (GpuStorage.touched). */
  mutated(s: GpuStorage): void {
    if (this.inPlace.has(s.serial) || typeof WeakRef !== 'function') return;
    // Forget the collected ones now and then (sync does too), so the map stays as small as what lives.
    if (this.inPlace.size >= 4096)
      for (const [serial, ref] of this.inPlace) if (!ref.deref()) this.inPlace.delete(serial);
    this.inPlace.set(s.serial, new WeakRef(s));
  }

  /** Copies every live storage written in place to the host (Backend.sync). */
  async sync(): Promise<void> {
    const live: GpuStorage[] = [];
    for (const [serial, ref] of this.inPlace) {
      const s = ref.deref();
      if (!s || s.dead) this.inPlace.delete(serial);
      else if (!s.shadowed) live.push(s);
    }
    const versions = live.map((s) => s.version);
    const raw = await this.readMany(
      live.map((s) => ({ buffer: s.buffer, byteOffset: s.base * 4, bytes: s.length * 4 })),
    );
    live.forEach((s, i) => {
      s.prefetched(raw[i], versions[i]);
    });
  }

  /** Waits until the GPU has done everything submitted so far (benchmarks). */
  async idle(): Promise<void> {
    this.flush();
    await this.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Releases the device's buffers (the device itself belongs to whoever made it). */
  dispose(): void {
    this.enc = null;
    this.pass = null;
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.groups.clear();
  }
}

/** The error a kernel reported (ERROR_KINDS), as the js kernels word it. */
function indexError(code: number, value: number, size: number): ValueError {
  const kind = ERROR_KINDS[code >> 4] ?? 'a kernel';
  const axis = code & 15;
  const found = '(found on the GPU by a kernel recorded before this read)';
  if (kind === 'crossEntropy')
    return new ValueError(
      `crossEntropy: target ${value} is out of range for ${size} classes (allowed 0..${size - 1}) ${found}`,
    );
  return new ValueError(
    `${kind}: index ${value} is out of range for axis ${axis} of size ${size} (allowed 0..${size - 1}) ${found}`,
  );
}
