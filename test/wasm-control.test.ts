// The helper threads' control block: one layout for the caller (pool.ts) and the helper loop
// (threads.ts), and the loop's source text runnable on its own in a worker.
import { describe, expect, it } from 'vitest';
import {
  CTRL_WORDS,
  Kind,
  type RowsRequest,
  Word,
  writeOptimizerRequest,
  writeRequest,
} from '../src/backend/wasm/control.js';
import { GEMM_WORKER_LOOP, SPLIT_MIN_WORK } from '../src/backend/wasm/threads.js';
import { defaultWasmThreads, splitMinWork } from '../src/io/web/threads.js';

/**
 * Runs the helper loop from its source text alone on `ctrl` for one request (request 1, ready) with
 * the fake kernels `ex`; the loop is stopped by throwing from Atomics.wait, which it reaches when
 * no further request comes.
 */
function runOneRequest(ctrl: Int32Array, ex: object): void {
  ctrl[Word.ready] = 1;
  const stop = new Error('stop');
  const fakeAtomics = new Proxy(Atomics, {
    get: (target, key) =>
      key === 'wait'
        ? () => {
            throw stop;
          }
        : Reflect.get(target, key),
  });
  // The loop first notes request 0 as seen; the first clock read then posts request 1.
  let loads = 0;
  const run = new Function('ex', 'ctrl', 'Atomics', 'performance', GEMM_WORKER_LOOP);
  const perf = {
    now: () => {
      if (loads++ === 0) ctrl[Word.request] = 1;
      return loads * 10; // past the spin deadline at once
    },
  };
  expect(() => run(ex, ctrl, fakeAtomics, perf)).toThrow(stop);
}

describe('wasm GEMM control block', () => {
  it("a page's default threads leave half the cores to the page (⌈cores / 2⌉, at most 4), or split only long products on both of 2", () => {
    expect([undefined, 1, 2, 3, 4, 6, 8, 16].map(defaultWasmThreads)).toEqual([1, 1, 2, 2, 2, 3, 4, 4]);
    expect(splitMinWork(2, 2)).toBe(1 << 26);
    expect(splitMinWork(2, 4)).toBe(SPLIT_MIN_WORK);
    expect(splitMinWork(4, 4)).toBe(1 << 26);
    expect(1000 * 784 * 256).toBeGreaterThanOrEqual(1 << 26);
    expect(64 * 784 * 256).toBeLessThan(1 << 26);
  });

  it('gives every word its own index inside the block', () => {
    const indices = Object.values(Word);
    expect(new Set(indices).size).toBe(indices.length);
    for (const i of indices) {
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(CTRL_WORDS);
    }
  });

  it('writes a request where the helper reads it', () => {
    const ctrl = new Int32Array(CTRL_WORDS);
    const req: RowsRequest = {
      a: 64,
      aRowStride: 7,
      aColStride: 1,
      packedB: 4096,
      c: 8192,
      m: 30,
      n: 11,
      k: 7,
      block: 4,
      accumulate: true,
    };
    writeRequest(ctrl, req, 16384);
    expect([ctrl[Word.a], ctrl[Word.aRowStride], ctrl[Word.aColStride], ctrl[Word.packedB]]).toEqual([
      64, 7, 1, 4096,
    ]);
    expect([ctrl[Word.c], ctrl[Word.ldc], ctrl[Word.m], ctrl[Word.n], ctrl[Word.k]]).toEqual([
      8192, 11, 30, 11, 7,
    ]);
    expect([ctrl[Word.work], ctrl[Word.block], ctrl[Word.accumulate]]).toEqual([16384, 4, 1]);
  });

  it('runs the helper loop from its source text alone, computing the rows it draws', () => {
    // A fake kernel records the row ranges.
    const sab = new SharedArrayBuffer(4 * CTRL_WORDS * 2);
    const ctrl = new Int32Array(sab, 4 * CTRL_WORDS, CTRL_WORDS);
    writeRequest(
      ctrl,
      {
        a: 0,
        aRowStride: 1,
        aColStride: 1,
        packedB: 0,
        c: 0,
        m: 10,
        n: 1,
        k: 1,
        block: 4,
        accumulate: false,
      },
      0,
    );
    const rows: [number, number][] = [];
    runOneRequest(ctrl, { gemmRows: (...args: number[]) => rows.push([args[6], args[7]]) });
    expect(rows).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(ctrl[Word.done]).toBe(1);
    expect(ctrl[Word.blocksDone]).toBe(3);
    expect(ctrl[Word.running]).toBe(1);
  });

  it('runs an optimizer request from the source text: element blocks at offset addresses, absent state kept 0', () => {
    const sab = new SharedArrayBuffer(4 * CTRL_WORDS * 2);
    const ctrl = new Int32Array(sab, 4 * CTRL_WORDS, CTRL_WORDS);
    writeOptimizerRequest(ctrl, {
      family: 1,
      w: 1024,
      g: 4096,
      s0: 8192,
      s1: 0,
      s2: 0,
      h: 64,
      n: 10,
      block: 4,
    });
    expect(ctrl[Word.kind]).toBe(Kind.OPTIMIZER);
    const calls: number[][] = [];
    runOneRequest(ctrl, {
      gemmRows: () => expect.fail('no rows in an optimizer request'),
      optimizerStep: (...a: number[]) => calls.push(a),
    });
    // family, w, g, s0, s1, s2 (byte addresses advanced by 4 bytes an element), count, h
    expect(calls).toEqual([
      [1, 1024, 4096, 8192, 0, 0, 4, 64],
      [1, 1040, 4112, 8208, 0, 0, 4, 64],
      [1, 1056, 4128, 8224, 0, 0, 2, 64],
    ]);
    expect(ctrl[Word.done]).toBe(1);
    // A rows request written afterwards says so.
    writeRequest(
      ctrl,
      { a: 0, aRowStride: 1, aColStride: 1, packedB: 0, c: 0, m: 1, n: 1, k: 1, block: 4, accumulate: false },
      0,
    );
    expect(ctrl[Word.kind]).toBe(Kind.ROWS);
  });
});
