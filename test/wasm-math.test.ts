/**
 * The wasm kernels' exp and log (assembly/crossentropy.ts, fdlibm's algorithms) give the bits of
 * V8's Math.exp and Math.log — what lets the compiled cross-entropy pass keep the eager bits — over
 * the arguments softmax takes (x − max ≤ 0, sums in [1, C]) and the edges.
 */
import { expect, it } from 'vitest';
import { loadKernels } from '../src/backend/wasm/module.js';
import { Rng } from '../src/util/random.js';

const kernels = loadKernels();

it.skipIf(kernels === null)("expF64 and logF64 are Math.exp's and Math.log's bits", () => {
  const { expF64, logF64 } = (kernels as NonNullable<typeof kernels>).ex;
  const g = new Rng(9);
  const xs: number[] = [0, -0, 1, -1, 0.5, Math.LN2 / 2, 1.5 * Math.LN2, 709.78, 709.79, -745.13, -745.14];
  xs.push(
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    1e-300,
    5e-324,
    2 ** -28,
    -(2 ** -29),
  );
  for (let i = 0; i < 20_000; i++) {
    xs.push(Math.fround(-30 * g.random()) - Math.fround(3 * g.random())); // softmax's x − max
    xs.push(1500 * (g.random() - 0.5));
    xs.push(2 * (g.random() - 0.5));
    xs.push(1 + 10 * g.random()); // Σ exp: log's argument
    xs.push(1e300 * g.random());
    xs.push(1e-310 * g.random()); // subnormal
    xs.push(1 + 1e-6 * (g.random() - 0.5));
  }
  const bad: string[] = [];
  for (const x of xs) {
    if (!Object.is(expF64(x), Math.exp(x))) bad.push(`exp(${x}) = ${expF64(x)}, Math.exp ${Math.exp(x)}`);
    if (!Object.is(logF64(x), Math.log(x))) bad.push(`log(${x}) = ${logF64(x)}, Math.log ${Math.log(x)}`);
  }
  expect(bad.slice(0, 5)).toEqual([]);
});
