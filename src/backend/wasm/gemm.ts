/**
 * The float32 matrix product on the wasm kernels (assembly/gemm.ts): copies the operands into the
 * arena in their own layout (strided reads happen in packing, never in JS), picks the kernel —
 * `gemmSmall` for matrix-vector and tiny products, else `packB` once and `gemmRows` over row blocks
 * — and, for products big enough to pay (threads.ts `gemmSplitMinWork`), splits the row blocks
 * between this thread and the helper threads (pool.ts). A bias starts every row of C and the
 * product accumulates onto it.
 */
import { repeatRow } from '../repeatRow.js';
import { Arena, align } from './arena.js';
import type { RowsRequest } from './control.js';
import { WasmHeap } from './heap.js';
import { type KernelExports, type KernelFlavour, loadKernels } from './module.js';
import { HelperPool } from './pool.js';
import { gemmSplitMinWork } from './threads.js';

/** A strided float32 matrix in a host array: element (i, j) is data[offset + i·rowStride + j·colStride]. */
export interface MatrixOperand {
  readonly data: Float32Array;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Where a product's m×n result goes: row-major from data[offset]. */
export interface MatrixOutput {
  readonly data: Float32Array;
  readonly offset: number;
}

/** The sizes of C[m×n] = A[m×k]·B[k×n]. */
export interface ProductSize {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

/** Products with at most this many multiply-adds skip packing (gemmSmall). */
const SMALL_WORK = 4096;

/** Stands for an absent bias among the operands kept current by `reserveFor`. */
const EMPTY = new Float32Array(0);

/** An operand's layout inside the arena: where it starts and its (possibly densified) strides. */
interface Placed {
  readonly at: number;
  readonly rs: number;
  readonly cs: number;
  readonly span: number;
  readonly fill: boolean;
}

/**
 * Places a rows×cols operand at byte address `at`. One broadcast from a single element (e.g. the
 * gradient of a sum, expanded) is made dense, so packing takes its vector paths.
 */
function place(x: MatrixOperand, rows: number, cols: number, at: number): Placed {
  const fill = x.rowStride === 0 && x.colStride === 0 && rows * cols > 1;
  const rs = fill ? cols : x.rowStride;
  const cs = fill ? 1 : x.colStride;
  const span = rows > 0 && cols > 0 ? (rows - 1) * rs + (cols - 1) * cs + 1 : 0;
  return { at, rs, cs, span, fill };
}

/** The GEMM driver of one kernel instance. */
export class WasmGemm {
  private workspace = -1;

  constructor(
    /** The module's exports: the GEMM and the element-wise kernels (elementwise.ts). */
    readonly ex: KernelExports,
    readonly flavour: KernelFlavour,
    /** The linear memory the operands are copied into. */
    readonly arena: Arena,
    readonly pool: HelperPool,
  ) {}

  /** Loads the best build this engine accepts; null when WebAssembly SIMD is unavailable. */
  static load(): WasmGemm | null {
    const k = loadKernels();
    if (!k) return null;
    const heap = new WasmHeap(k.ex.memory, k.ex.heapBase());
    return new WasmGemm(k.ex, k.flavour, new Arena(heap), new HelperPool(k.helpers));
  }

  /** Number of threads a large product uses. */
  get threads(): number {
    return this.pool.threads;
  }

  /** Helper threads started and running (they may still be starting just after load). */
  get readyHelpers(): number {
    return this.pool.ready().length;
  }

  /** Row blocks computed by helper threads so far (for tests and benchmarks). */
  get helperBlocks(): number {
    return this.pool.blocksDone;
  }

  /** Bytes of linear memory in use. */
  get memoryBytes(): number {
    return this.arena.bytes;
  }

  /** C = A·B, plus `bias` (n floats) in every row when given. */
  multiply(
    a: MatrixOperand,
    b: MatrixOperand,
    c: MatrixOutput,
    size: ProductSize,
    bias: Float32Array | null,
  ): void {
    const { m, n, k } = size;
    const ex = this.ex;
    const arena = this.arena;
    // The layout relative to the scratch region's start, then the region (which may move).
    const ra = place(a, m, k, 0);
    const rb = place(b, k, n, align(ra.span * 4));
    const rc = align(rb.at + rb.span * 4);
    const small = n <= 2 || (m * n * k <= SMALL_WORK && ra.cs === 1 && rb.rs === 1);
    const helpers = !small && m * n * k >= gemmSplitMinWork() && m >= 8 ? this.pool.ready() : [];
    const parts = helpers.length + 1;
    if (this.workspace < 0) this.workspace = align(ex.rowsWorkspaceBytes());
    const ws = this.workspace;
    const rPacked = align(rc + m * n * 4);
    const rWork = align(rPacked + (small ? 0 : ex.packedBFloats(n, k) * 4));
    // Operands, bias or output may live in this memory (a compiled plan's): kept current if it grows.
    const ops = [a.data, b.data, c.data, bias ?? EMPTY];
    const base = arena.reserveFor(small ? rc + m * n * 4 : rWork + ws * parts, ops);
    a = { ...a, data: ops[0] };
    b = { ...b, data: ops[1] };
    c = { ...c, data: ops[2] };
    if (bias) bias = ops[3];
    const pa = { ...ra, at: base + ra.at };
    const pb = { ...rb, at: base + rb.at };
    const cAt = base + rc;
    const f = arena.floats();
    const fill = ex.fill32;
    if (small) {
      // Matrix-vector, or tiny with contiguous dot products: no packing (which pads n to 8 columns).
      arena.copyIn(f, a.data, a.offset, pa.span, pa.at, pa.fill, fill);
      arena.copyIn(f, b.data, b.offset, pb.span, pb.at, pb.fill, fill);
      ex.gemmSmall(pa.at, pa.rs, pa.cs, pb.at, pb.rs, pb.cs, cAt, m, n, k);
      c.data.set(f.subarray(cAt >> 2, (cAt >> 2) + m * n), c.offset);
      if (bias)
        for (let i = 0, at = c.offset; i < m; i++, at += n)
          for (let j = 0; j < n; j++) c.data[at + j] += bias[j];
      return;
    }
    const packedAt = base + rPacked;
    const workAt = base + rWork;
    arena.copyIn(f, a.data, a.offset, pa.span, pa.at, pa.fill, fill);
    arena.copyIn(f, b.data, b.offset, pb.span, pb.at, pb.fill, fill);
    if (bias) for (let i = 0, at = cAt >> 2; i < m; i++, at += n) f.set(bias, at);
    this.rows(pa, pb, cAt, size, bias !== null, helpers, packedAt, workAt);
    // The helpers never grow the memory, so the view from `floats` is still current.
    c.data.set(f.subarray(cAt >> 2, (cAt >> 2) + m * n), c.offset);
  }

  /**
   * C = A·B by packed row blocks, split with the helper threads when given: B is packed at
   * `packedAt`, each thread works in its own workspace from `workAt`; with `init`, C holds initial
   * values (a bias) that the products accumulate onto.
   */
  private rows(
    pa: { at: number; rs: number; cs: number },
    pb: { at: number; rs: number; cs: number },
    cAt: number,
    size: ProductSize,
    init: boolean,
    helpers: Int32Array[],
    packedAt: number,
    workAt: number,
  ): void {
    const { m, n, k } = size;
    const ex = this.ex;
    const ws = this.workspace;
    const parts = helpers.length + 1;
    // Row blocks are multiples of 4 (the micro-kernel's height), about sixteen per thread, so the
    // caller waits at most one small block for a helper that woke late (faster per MLP step than
    // four each: bench/NOTES.md).
    const block = Math.max(4, Math.ceil(m / (parts * 16) / 4) * 4);
    const req: RowsRequest = {
      a: pa.at,
      aRowStride: pa.rs,
      aColStride: pa.cs,
      packedB: packedAt,
      c: cAt,
      m,
      n,
      k,
      block,
      accumulate: init,
    };
    const dispatch = parts > 1 ? this.pool.call(helpers, req, (h) => workAt + ws * (h + 1)) : null;
    ex.packB(pb.at, pb.rs, pb.cs, n, k, packedAt);
    const flag = init ? 1 : 0;
    if (!dispatch) {
      ex.gemmRows(pa.at, pa.rs, pa.cs, packedAt, cAt, n, 0, m, n, k, workAt, flag);
      return;
    }
    this.pool.release(dispatch);
    for (;;) {
      const i0 = this.pool.takeRows(block);
      if (i0 >= m) break;
      ex.gemmRows(pa.at, pa.rs, pa.cs, packedAt, cAt, n, i0, Math.min(i0 + block, m), n, k, workAt, flag);
    }
    this.pool.join(dispatch);
  }

  /**
   * C = A·B (+ a bias row `biasAt`, a byte address, or −1) with A, B and C already in this memory:
   * no copies in or out. The same kernels and the same order of sums as `multiply` (a small product
   * adds the bias after, a packed one starts from it), so the same bits. Operands must not be
   * broadcast from one element (rs = cs = 0).
   */
  multiplyAt(
    a: { at: number; rs: number; cs: number },
    b: { at: number; rs: number; cs: number },
    cAt: number,
    size: ProductSize,
    biasAt: number,
  ): void {
    const { m, n, k } = size;
    const ex = this.ex;
    if (m === 0 || n === 0) return;
    if (n <= 2 || (m * n * k <= SMALL_WORK && a.cs === 1 && b.rs === 1)) {
      ex.gemmSmall(a.at, a.rs, a.cs, b.at, b.rs, b.cs, cAt, m, n, k);
      if (biasAt >= 0) ex.binary(0, cAt, n, 1, biasAt, 0, 1, cAt, m, n);
      return;
    }
    const helpers = m * n * k >= gemmSplitMinWork() && m >= 8 ? this.pool.ready() : [];
    if (this.workspace < 0) this.workspace = align(ex.rowsWorkspaceBytes());
    const packedBytes = align(ex.packedBFloats(n, k) * 4);
    const base = this.arena.reserve(packedBytes + this.workspace * (helpers.length + 1));
    if (biasAt >= 0) repeatRow(this.arena.floats(), biasAt >> 2, cAt >> 2, m, n);
    this.rows(a, b, cAt, size, biasAt >= 0, helpers, base, base + packedBytes);
  }
}
