// A/B of the wasm GEMM micro-kernel's k loop (assembly/gemm.ts, kernel4x8): the loop as written
// (one k step per iteration) against two rewrites generated from it — unrolled by 8, with and
// without an always-false `break` between steps (the guard that once kept V8 from hoisting loads
// across steps). Each variant is compiled with AssemblyScript as `npm run build:wasm` does, run on
// one thread at 256×784×256, interleaved over rounds; prints median and best GFLOP/s.
// Run: node bench/unroll.mjs [--relaxed]   (--relaxed needs Node's --experimental-wasm-relaxed-simd
// below Node 22: node --experimental-wasm-relaxed-simd bench/unroll.mjs --relaxed)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const relaxed = process.argv.includes('--relaxed');
const source = readFileSync(join(root, 'assembly', 'gemm.ts'), 'utf8');
const start = source.indexOf('  for (let p = 0; p < kc; p++) {');
const end = source.indexOf('  const ld = <usize>ldc * 4;');
if (start < 0 || end < start)
  throw new Error('bench/unroll.mjs: kernel4x8 k loop not found in assembly/gemm.ts');
const loop = source.slice(start, end);
const body = loop.slice(loop.indexOf('{\n') + 2, loop.lastIndexOf('}'));
const block = `    {\n${body}    }\n`;
const unrolled = (guard) =>
  `  let p = 0;\n  for (; p + 8 <= kc; p += 8) {\n${Array(8)
    .fill(block)
    .join(guard ? '    if (kc < 0) break;\n' : '')}  }\n  for (; p < kc; p++) {\n${body}  }\n`;
const variants = {
  'one k step per iteration (as written)': loop,
  'unrolled by 8, always-false break between steps': unrolled(true),
  'unrolled by 8, no guard': unrolled(false),
};

const work = mkdtempSync(join(tmpdir(), 'keel-unroll-'));
const kernels = {};
let i = 0;
for (const [name, text] of Object.entries(variants)) {
  const dir = join(work, `v${i++}`);
  mkdirSync(dir);
  for (const f of ['index.ts', 'elementwise.ts'])
    writeFileSync(join(dir, f), readFileSync(join(root, 'assembly', f)));
  writeFileSync(join(dir, 'gemm.ts'), source.slice(0, start) + text + source.slice(end));
  const out = join(dir, 'k.wasm');
  const flags = ['--enable', 'simd', ...(relaxed ? ['--enable', 'relaxed-simd'] : [])];
  const { error, stderr } = await asc.main([
    join(dir, 'index.ts'),
    '--outFile',
    out,
    '-O3',
    '--runtime',
    'stub',
    '--noAssert',
    ...flags,
  ]);
  if (error) throw new Error(`${name}: ${stderr.toString()}`);
  const { instance } = await WebAssembly.instantiate(readFileSync(out), {
    env: {
      abort() {
        throw new Error('abort');
      },
    },
  });
  kernels[name] = instance.exports;
}

const M = 256;
const K = 784;
const N = 256;
function product(ex) {
  const base = (ex.heapBase() + 63) & ~63;
  const aP = base;
  const bP = aP + M * K * 4;
  const cP = bP + K * N * 4;
  const pbP = cP + M * N * 4;
  const wP = pbP + ex.packedBFloats(N, K) * 4;
  const need = wP + ex.rowsWorkspaceBytes() + 1024;
  if (ex.memory.buffer.byteLength < need)
    ex.memory.grow(Math.ceil((need - ex.memory.buffer.byteLength) / 65536));
  const f = new Float32Array(ex.memory.buffer);
  for (let j = 0; j < M * K + K * N; j++) f[(aP >> 2) + j] = Math.sin(j);
  return () => {
    ex.packB(bP, N, 1, N, K, pbP);
    ex.gemmRows(aP, K, 1, pbP, cP, N, 0, M, N, K, wP, false);
    return new Float32Array(ex.memory.buffer, cP, M * N);
  };
}
const runs = Object.fromEntries(Object.entries(kernels).map(([n, ex]) => [n, product(ex)]));
const names = Object.keys(runs);
const reference = runs[names[0]]().slice();
for (const n of names.slice(1)) {
  const c = runs[n]();
  for (let j = 0; j < c.length; j++)
    if (Math.abs(c[j] - reference[j]) > 1e-3 * (1 + Math.abs(reference[j])))
      throw new Error(`${n}: wrong product at ${j}`);
}
const gflops = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < 7; round++) {
  for (const n of names) {
    for (let r = 0; r < 5; r++) runs[n]();
    const reps = 40;
    const t = performance.now();
    for (let r = 0; r < reps; r++) runs[n]();
    gflops[n].push((2 * M * N * K * reps) / ((performance.now() - t) / 1000) / 1e9);
  }
}
const median = (x) => x.slice().sort((p, q) => p - q)[x.length >> 1];
console.log(
  `wasm GEMM ${M}×${K}×${N}, one thread, ${relaxed ? 'relaxed SIMD' : 'SIMD128'}, GFLOP/s median [best] of 7 rounds:`,
);
for (const n of names)
  console.log(`  ${n}: ${median(gflops[n]).toFixed(1)} [${Math.max(...gflops[n]).toFixed(1)}]`);
