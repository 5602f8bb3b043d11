/**
 * Test helpers: closeness checks with messages that show where values differ, and decoding of the
 * golden JSON tensors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { type DType, type NestedArray, Tensor, tensor } from '../src/index.js';

/** Encoded tensor as written by test/golden/generate.py. */
export interface Encoded {
  shape: number[];
  dtype: DType;
  data: (number | boolean)[];
}

export function decode(e: Encoded, dtype?: DType): Tensor {
  const d = dtype ?? e.dtype;
  return tensor(e.data as number[], { dtype: e.dtype === 'bool' ? 'bool' : d }).reshape(e.shape);
}

/** Asserts shape equality and |a − b| ≤ atol + rtol·|b| elementwise (NaN matches NaN, inf matches inf). */
export function expectClose(
  actual: Tensor,
  expected: Tensor | NestedArray,
  rtol = 1e-10,
  atol = 1e-12,
): void {
  const exp = expected instanceof Tensor ? expected : tensor(expected, { dtype: 'float64' });
  expect(actual.shape).toEqual(exp.shape);
  const a = actual.readSync();
  const b = exp.readSync();
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      expect(
        Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)),
        `element ${i}: got ${x}, expected ${y}`,
      ).toBe(true);
      continue;
    }
    const ok = Math.abs(x - y) <= atol + rtol * Math.abs(y);
    expect(ok, `element ${i}: got ${x}, expected ${y} (|diff| ${Math.abs(x - y)})`).toBe(true);
  }
}

/** One golden case as written by test/golden/generate.py. */
export interface GoldenCase {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: Encoded[];
  output: Encoded;
  weights?: Encoded;
  grads?: (Encoded | null)[];
}

// biome-ignore lint/suspicious/noExplicitAny: golden arguments are heterogeneous JSON
export type Args = Record<string, any>;

function runCase(
  calls: Record<string, (xs: Tensor[], a: Args) => Tensor>,
  c: GoldenCase,
  dtype: 'float32' | 'float64',
) {
  const xs = c.inputs.map((e) => {
    const t = decode(e, e.dtype === 'float64' ? dtype : e.dtype);
    if (c.grads && e.dtype === 'float64') t.requiresGrad = true;
    return t;
  });
  const out = calls[c.op](xs, c.args);
  return { xs, out };
}

/**
 * Runs every case of a golden file: forward output, then gradients of sum(out · w), in float64
 * (tight tolerance) and in float32 (float32 tolerance).
 */
export function goldenSuite(
  title: string,
  file: string,
  calls: Record<string, (xs: Tensor[], a: Args) => Tensor>,
): void {
  const golden = JSON.parse(readFileSync(new URL(`./golden/${file}`, import.meta.url), 'utf8')) as {
    cases: GoldenCase[];
  };
  describe(title, () => {
    it('covers every op of the generator', () => {
      const missing = [...new Set(golden.cases.map((c) => c.op))].filter((op) => !(op in calls));
      expect(missing).toEqual([]);
      expect(golden.cases.length).toBeGreaterThan(10);
    });

    for (const c of golden.cases) {
      it(`${c.name} (float64)`, () => {
        const { xs, out } = runCase(calls, c, 'float64');
        const expected = decode(c.output);
        if (c.output.dtype === 'float64') expect(out.dtype).toBe('float64');
        else expect(out.dtype).toBe(c.output.dtype);
        expectClose(out, expected, 1e-10, 1e-12);
        if (c.weights && c.grads) {
          k.sum(k.mul(out, decode(c.weights))).backward();
          c.grads.forEach((g, i) => {
            if (g) expectClose(xs[i].grad as Tensor, decode(g), 1e-9, 1e-12);
          });
        }
      });

      if (c.output.dtype === 'float64' && c.inputs.some((e) => e.dtype === 'float64')) {
        it(`${c.name} (float32)`, () => {
          const { xs, out } = runCase(calls, c, 'float32');
          expect(out.dtype).toBe('float32');
          expectClose(out, decode(c.output), 1e-5, 1e-5);
          if (c.weights && c.grads) {
            k.sum(k.mul(out, decode(c.weights, 'float32'))).backward();
            c.grads.forEach((g, i) => {
              if (g) expectClose(xs[i].grad as Tensor, decode(g), 1e-4, 1e-4);
            });
          }
        });
      }
    }
  });
}

/** The bytes of an IDX file of unsigned bytes with dimensions `dims`, every value `fill`. */
export function idxBytes(dims: number[], fill: number): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const b = new Uint8Array(4 + 4 * dims.length + n);
  b.set([0, 0, 8, dims.length]);
  const v = new DataView(b.buffer);
  for (const [i, d] of dims.entries()) v.setUint32(4 + 4 * i, d, false);
  b.fill(fill, 4 + 4 * dims.length);
  return b;
}
