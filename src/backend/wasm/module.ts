/**
 * Loading the WebAssembly kernel module (assembly/index.ts, embedded by scripts/build-wasm.mjs).
 * The module is tiny, so it is compiled synchronously on first use: the relaxed-SIMD (FMA) build
 * when `WebAssembly.validate` accepts it, else the baseline SIMD128 build, else none (the caller
 * falls back to js). When a platform installed worker threads (threads.ts), the shared-memory build
 * is instantiated over a shared memory and each helper is started with that build's bytes.
 */
import { GEMM_RELAXED, GEMM_SHARED_RELAXED, GEMM_SHARED_SIMD, GEMM_SIMD } from './binary.generated.js';
import { CTRL_WORDS } from './control.js';
import { gemmThreads } from './threads.js';

/** A strided matrix operand: its address, then its row and column strides. */
type Strided = [at: number, rowStride: number, colStride: number];

/** What the kernel module exports (assembly/index.ts); addresses are bytes, strides elements. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  packB(...args: [...b: Strided, n: number, k: number, dst: number]): void;
  packedBFloats(n: number, k: number): number;
  rowsWorkspaceBytes(): number;
  gemmRows(
    ...args: [
      ...a: Strided,
      pb: number,
      c: number,
      ldc: number,
      i0: number,
      i1: number,
      n: number,
      k: number,
      work: number,
      init: number,
    ]
  ): void;
  gemmSmall(...args: [...a: Strided, ...b: Strided, c: number, m: number, n: number, k: number]): void;
  heapBase(): number;
  fill32(dst: number, n: number, value: number): void;
  binary(...args: [op: number, ...a: Strided, ...b: Strided, o: number, rows: number, cols: number]): void;
  unary(...args: [op: number, ...x: Strided, o: number, rows: number, cols: number]): void;
  sgd(w: number, g: number, n: number, lr: number): void;
  reluDropout(
    c: number,
    n: number,
    relu: number,
    drop: number,
    k0: number,
    k1: number,
    threshold: number,
    dropAll: number,
    scale: number,
    hidden: number,
    out: number,
    mask: number,
  ): void;
  gatherRows(
    x: number,
    rowBytes: number,
    size: number,
    index: number,
    stride: number,
    count: number,
    out: number,
  ): number;
  gatherPixels(
    x: number,
    cols: number,
    size: number,
    index: number,
    stride: number,
    count: number,
    out: number,
    divisor: number,
  ): number;
  reluBackward(
    g: number,
    h: number,
    mask: number,
    rows: number,
    cols: number,
    out: number,
    db: number,
    acc: number,
  ): void;
  optimizerStep(
    family: number,
    w: number,
    g: number,
    s0: number,
    s1: number,
    s2: number,
    n: number,
    h: number,
  ): void;
  crossEntropyStep(
    ...args: [
      ...x: Strided,
      n: number,
      c: number,
      target: number,
      targetStride: number,
      g: number,
      gStride: number,
      factor: number,
      count: number,
      probs: number,
      rows: number,
      loss: number,
      dx: number,
    ]
  ): number;
  countCorrect(x: number, rows: number, cols: number, t: number, tStride: number): number;
  columnSums(x: number, rows: number, cols: number, acc: number, out: number): void;
  /** fdlibm's e^x and ln x (as V8's Math.exp and Math.log), exported for the conformance tests. */
  expF64(x: number): number;
  logF64(x: number): number;
  dropout(
    x: number,
    n: number,
    k0: number,
    k1: number,
    b0: number,
    threshold: number,
    dropAll: number,
    scale: number,
    out: number,
    mask: number,
  ): void;
}

/** Which build was loaded. */
export type KernelFlavour = 'relaxed-simd' | 'simd';

/** A loaded kernel module, and the helper threads' control blocks (empty: single-threaded). */
export interface LoadedKernels {
  readonly ex: KernelExports;
  readonly flavour: KernelFlavour;
  readonly helpers: Int32Array[];
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Loads the best build this engine accepts, starting the helpers; null without WebAssembly SIMD. */
export function loadKernels(): LoadedKernels | null {
  if (typeof WebAssembly !== 'object') return null;
  const { spawn, helpers } = gemmThreads();
  for (const [flavour, b64, sharedB64] of [
    ['relaxed-simd', GEMM_RELAXED, GEMM_SHARED_RELAXED],
    ['simd', GEMM_SIMD, GEMM_SHARED_SIMD],
  ] as const) {
    const bytes = decode(b64);
    if (!WebAssembly.validate(bytes)) continue;
    if (spawn && helpers > 0) {
      const shared = decode(sharedB64);
      if (WebAssembly.validate(shared)) {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
        const instance = new WebAssembly.Instance(new WebAssembly.Module(shared), { env: { memory } });
        // The shared row counter (word 0), then one control block per helper (control.ts).
        const blockBytes = 4 * CTRL_WORDS;
        const sab = new SharedArrayBuffer(blockBytes * (helpers + 1));
        const ctrls = Array.from({ length: helpers }, (_, h) => {
          const ctrl = new Int32Array(sab, blockBytes * (h + 1), CTRL_WORDS);
          spawn(shared, memory, ctrl);
          return ctrl;
        });
        return { ex: instance.exports as unknown as KernelExports, flavour, helpers: ctrls };
      }
    }
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return { ex: instance.exports as unknown as KernelExports, flavour, helpers: [] };
  }
  return null;
}
