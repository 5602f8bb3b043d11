/**
 * The float32 matrix product on the wasm kernels (assembly/gemm.ts): copies the operands into the
 * arena in their own layout (strided reads happen in packing, never in JS), picks the kernel —
 * `gemmSmall` for matrix-vector and tiny products, else `packB` once and `gemmRows` over row blocks
 * — and, for products big enough to pay, splits the row blocks between this thread and the helper
 * threads (pool.ts). A bias starts every row of C and the product accumulates onto it.
 */
import { Arena, align } from './arena.js';
import type { RowsRequest } from './control.js';
import { type KernelExports, type KernelFlavour, loadKernels } from './module.js';
import { HelperPool } from './pool.js';

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

/** Products with at least this many multiply-adds are split across threads. */
const THREAD_MIN_WORK = 1 << 21;

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
    return k ? new WasmGemm(k.ex, k.flavour, new Arena(k.ex), new HelperPool(k.helpers)) : null;
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
    const pa = place(a, m, k, arena.start);
    const pb = place(b, k, n, align(pa.at + pa.span * 4));
    const cAt = align(pb.at + pb.span * 4);
    if (n <= 2 || (m * n * k <= SMALL_WORK && pa.cs === 1 && pb.rs === 1)) {
      // Matrix-vector, or tiny with contiguous dot products: no packing (which pads n to 8 columns).
      const f = arena.ensure(cAt + m * n * 4);
      arena.copyIn(f, a.data, a.offset, pa.span, pa.at, pa.fill);
      arena.copyIn(f, b.data, b.offset, pb.span, pb.at, pb.fill);
      ex.gemmSmall(pa.at, pa.rs, pa.cs, pb.at, pb.rs, pb.cs, cAt, m, n, k);
      c.data.set(f.subarray(cAt >> 2, (cAt >> 2) + m * n), c.offset);
      if (bias)
        for (let i = 0, at = c.offset; i < m; i++, at += n)
          for (let j = 0; j < n; j++) c.data[at + j] += bias[j];
      return;
    }
    const helpers = m * n * k >= THREAD_MIN_WORK && m >= 8 ? this.pool.ready() : [];
    const parts = helpers.length + 1;
    const packedAt = align(cAt + m * n * 4);
    if (this.workspace < 0) this.workspace = align(ex.rowsWorkspaceBytes());
    const ws = this.workspace;
    const workAt = align(packedAt + ex.packedBFloats(n, k) * 4);
    const f = arena.ensure(workAt + ws * parts);
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
      accumulate: bias !== null,
    };
    const dispatch = parts > 1 ? this.pool.call(helpers, req, (h) => workAt + ws * (h + 1)) : null;
    arena.copyIn(f, a.data, a.offset, pa.span, pa.at, pa.fill);
    arena.copyIn(f, b.data, b.offset, pb.span, pb.at, pb.fill);
    ex.packB(pb.at, pb.rs, pb.cs, n, k, packedAt);
    if (bias) for (let i = 0, at = cAt >> 2; i < m; i++, at += n) f.set(bias, at);
    const init = bias ? 1 : 0;
    if (!dispatch) {
      ex.gemmRows(pa.at, pa.rs, pa.cs, packedAt, cAt, n, 0, m, n, k, workAt, init);
    } else {
      this.pool.release(dispatch);
      for (;;) {
        const i0 = this.pool.takeRows(block);
        if (i0 >= m) break;
        ex.gemmRows(pa.at, pa.rs, pa.cs, packedAt, cAt, n, i0, Math.min(i0 + block, m), n, k, workAt, init);
      }
      this.pool.join(dispatch);
    }
    // The helpers never grow the memory, so the view from `ensure` is still current.
    c.data.set(f.subarray(cAt >> 2, (cAt >> 2) + m * n), c.offset);
  }
}
