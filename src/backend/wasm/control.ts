/**
 * The control block through which the caller hands row blocks of a product — or element blocks of
 * an optimizer step — to a helper thread: the layout of its Int32 words, shared by both sides (the
 * caller in pool.ts, the helper loop in threads.ts), and the request records the caller fills it from. One SharedArrayBuffer holds a
 * counter (word 0: the next row of C to take, drawn by every thread) followed by one block of
 * CTRL_WORDS words per helper.
 */

/** Word indices of a helper's control block. */
export const Word = {
  /** Sequence number of the latest request (the caller bumps it and notifies). */
  request: 0,
  /** Sequence number of the last request the helper finished (it notifies the caller). */
  done: 1,
  // The request: gemmRows' arguments (byte addresses and element strides) and the block size.
  a: 2,
  aRowStride: 3,
  aColStride: 4,
  packedB: 5,
  c: 6,
  ldc: 7,
  m: 8,
  n: 9,
  k: 10,
  /** This helper's own scratch (rowsWorkspaceBytes). */
  work: 11,
  /** Rows per block drawn from the shared counter (a multiple of 4). */
  block: 12,
  /** 1: C holds initial values (a bias) and the product accumulates onto them. */
  accumulate: 13,
  /** Sequence number of the request whose operands are in linear memory (helpers may start). */
  ready: 14,
  /** Set to 1 by the helper once its loop runs; until then the caller leaves it out. */
  running: 15,
  /** Row blocks this helper computed so far (for tests and benchmarks). */
  blocksDone: 16,
  /** What the request is: ROWS (a product's rows, the words above) or OPTIMIZER (the words below). */
  kind: 17,
  // An optimizer step's arguments (optimizerStep in assembly/optimizer.ts) over `m` elements, drawn
  // `block` at a time from the shared counter: family, byte addresses of w, g, the state buffers (0
  // where absent) and the hyper-parameters h.
  family: 18,
  w: 19,
  g: 20,
  s0: 21,
  s1: 22,
  s2: 23,
  h: 24,
} as const;

/** Request kinds (Word.kind). */
export const Kind = { ROWS: 0, OPTIMIZER: 1 } as const;

/** Int32 words per helper control block (and bytes per block: 4·CTRL_WORDS). */
export const CTRL_WORDS = 32;

/** One product's work for the helpers: where the operands are in linear memory and its sizes. */
export interface RowsRequest {
  /** Byte address of A and its element strides. */
  readonly a: number;
  readonly aRowStride: number;
  readonly aColStride: number;
  /** Byte address of B packed by `packB`. */
  readonly packedB: number;
  /** Byte address of C (row-major, `n` floats per row). */
  readonly c: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly block: number;
  readonly accumulate: boolean;
}

/** Writes `req` (with this helper's scratch address) into a control block. */
export function writeRequest(ctrl: Int32Array, req: RowsRequest, work: number): void {
  ctrl[Word.a] = req.a;
  ctrl[Word.aRowStride] = req.aRowStride;
  ctrl[Word.aColStride] = req.aColStride;
  ctrl[Word.packedB] = req.packedB;
  ctrl[Word.c] = req.c;
  ctrl[Word.ldc] = req.n;
  ctrl[Word.m] = req.m;
  ctrl[Word.n] = req.n;
  ctrl[Word.k] = req.k;
  ctrl[Word.work] = work;
  ctrl[Word.block] = req.block;
  ctrl[Word.accumulate] = req.accumulate ? 1 : 0;
  ctrl[Word.kind] = Kind.ROWS;
}

/** One optimizer step's work for the helpers: n elements from the given byte addresses. */
export interface OptimizerRequest {
  readonly family: number;
  readonly w: number;
  readonly g: number;
  /** Up to three state buffers (0 where absent). */
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
  /** Byte address of the step's hyper-parameters (float64, read only). */
  readonly h: number;
  readonly n: number;
  /** Elements per block drawn from the shared counter (a multiple of 4). */
  readonly block: number;
}

/** Writes an optimizer request into a control block. */
export function writeOptimizerRequest(ctrl: Int32Array, req: OptimizerRequest): void {
  ctrl[Word.kind] = Kind.OPTIMIZER;
  ctrl[Word.family] = req.family;
  ctrl[Word.w] = req.w;
  ctrl[Word.g] = req.g;
  ctrl[Word.s0] = req.s0;
  ctrl[Word.s1] = req.s1;
  ctrl[Word.s2] = req.s2;
  ctrl[Word.h] = req.h;
  ctrl[Word.m] = req.n;
  ctrl[Word.block] = req.block;
}
