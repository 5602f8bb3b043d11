// keel benchmarks against peers measured in the same run (issue 4): GEMM GFLOP/s, the dropout MLP
// on Fashion-MNIST (seconds per epoch, median of epochs 2..N, and test accuracy), the chapter's
// weight-decay run (µs per step), and a 32³ matmul with autograd. Peers: keel-js, keel-wasm,
// TensorFlow.js cpu and wasm (devDependencies), PyTorch CPU via Debian's python3-torch when it imports.
// keel runs in fresh child processes (bench/keel_peer.mjs: js, wasm on 1 thread, wasm threaded), as
// PyTorch runs in its own; TF.js runs in this one. Prints a table with keel/peer ratios and writes
// bench/results/latest.json.
// Usage: npm run bench [-- --json] [-- --epochs N] [-- --quick]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../dist/io/node/engine.js';
import * as k from '../dist/index.js';
import { findFashionMnist, readFashionMnist } from '../dist/io/node/index.js';
import { median, timeIt as timeItFor } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const asJson = argv.includes('--json');
const quick = argv.includes('--quick');
const epochs = Number(argv[argv.indexOf('--epochs') + 1]) || (quick ? 2 : 3);
const log = asJson ? (...a) => console.error(...a) : (...a) => console.log(...a);
const GEMMS = [
  [32, 32, 32],
  [256, 784, 256],
  [256, 256, 256],
  [1024, 1024, 1024],
];
const timeIt = (fn) => timeItFor(fn, quick ? 0.2 : 0.6);

// ---------------------------------------------------------------- keel
/** Runs bench/keel_peer.mjs in a fresh process and returns its JSON (progress goes to stderr). */
function keelPeer(spec, env = {}) {
  const res = spawnSync(process.execPath, [join(here, 'keel_peer.mjs'), JSON.stringify({ ...spec, quick })], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (res.status !== 0) throw new Error(`keel_peer ${JSON.stringify(spec)} failed with status ${res.status}`);
  return JSON.parse(res.stdout);
}

// ---------------------------------------------------------------- TensorFlow.js
async function tfjsPeer(backendName, fashion) {
  const tf = await import('@tensorflow/tfjs');
  if (backendName === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${join(here, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
  }
  await tf.setBackend(backendName);
  await tf.ready();
  const res = { gemm: {}, mlp: null, weightDecay: null };
  for (const [m, kk, n] of GEMMS) {
    if (backendName === 'cpu' && m * kk * n > 3e7) {
      res.gemm[`${m}x${kk}x${n}`] = null;
      continue;
    }
    const a = tf.randomNormal([m, kk]);
    const b = tf.randomNormal([kk, n]);
    res.gemm[`${m}x${kk}x${n}`] =
      (2 * m * kk * n) / timeIt(() => tf.tidy(() => tf.matMul(a, b).dataSync())) / 1e9;
    a.dispose();
    b.dispose();
  }
  if (fashion && backendName === 'wasm') {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 256, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10 }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) });
    // One epoch is enough for the timing ratio (TF.js wasm is slow here).
    const n = quick ? 6400 : 60000;
    const x = tf.tensor2d(fashion.train.images.readSync().subarray(0, n * 784), [n, 784]);
    const y = tf.oneHot(tf.tensor1d(fashion.train.labels.readSync().subarray(0, n), 'int32'), 10);
    const t0 = performance.now();
    await model.fit(x, y, { batchSize: 256, epochs: 1, shuffle: true, verbose: 0 });
    res.mlp = {
      seconds: ((performance.now() - t0) / 1000) * (60000 / n),
      note: n < 60000 ? `timed on ${n} images, scaled to 60000` : '',
    };
    x.dispose();
    y.dispose();
  }
  return res;
}

// ---------------------------------------------------------------- PyTorch
function torchPeer(fashionDir) {
  const ok = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (ok.status !== 0)
    return {
      skipped:
        'PyTorch not importable with /usr/bin/python3 (install Debian python3-torch and libopenblas0-pthread)',
    };
  const run = (threads, env) => {
    const args = JSON.stringify({ gemm: GEMMS, threads, epochs: quick ? 2 : epochs, fashion: fashionDir });
    const out = execFileSync('/usr/bin/python3', [join(here, 'torch_bench.py'), args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 1 << 24,
    });
    return JSON.parse(out);
  };
  const one = run(1, { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' });
  // DESIGN §4: PyTorch's best 2-core setting for the MLP is OMP 1 × OpenBLAS 2.
  const two = run(1, { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '2' });
  return { oneThread: one, twoThreads: two };
}

// ---------------------------------------------------------------- run
const fashionDir = findFashionMnist();
const fashion = fashionDir
  ? { train: readFashionMnist(fashionDir, 'train'), test: readFashionMnist(fashionDir, 'test') }
  : null;
const backends = k.availableBackends();
// keel configurations, each measured in its own process: js, wasm on one thread, wasm with the
// default helper threads (one per core, at most 4).
const configs = backends.flatMap((b) =>
  b === 'wasm'
    ? [
        { name: 'keel-wasm-1thr', backend: 'wasm', env: { KEEL_THREADS: '1' } },
        { name: 'keel-wasm', backend: 'wasm', env: {} },
      ]
    : [{ name: `keel-${b}`, backend: b, env: {} }],
);
const results = {
  date: new Date().toISOString(),
  node: process.version,
  backends,
  wasmFlavour: k.backendByName('wasm')?.gemm?.flavour ?? null,
  protocol:
    'each framework in its own process; GEMM: best rate after warm-up; MLP: median epoch 2..N; weight-decay: the (λ=0, λ=3) sequence twice, λ=3 of pass 2 (steady) and of pass 1 (cold)',
  keel: {},
  peers: {},
};

log('keel (GEMM, 32³ autograd, weight-decay run, dropout MLP), one process per configuration…');
for (const c of configs) {
  const wasmDefault = c.name === 'keel-wasm';
  results.keel[c.name] = keelPeer({ backend: c.backend, gemm: GEMMS, autograd32: true }, c.env);
  // The weight-decay run and the MLP in processes of their own, so the heap and JIT state left by
  // one workload never touch another.
  if (c.name !== 'keel-wasm-1thr')
    results.keel[c.name].weightDecay = keelPeer(
      { backend: c.backend, weightDecayPasses: 2 },
      c.env,
    ).weightDecay;
  if (fashion && (wasmDefault || (c.backend === 'js' && !quick)))
    results.keel[c.name].mlp = keelPeer(
      { backend: c.backend, mlpEpochs: epochs, fashion: fashionDir },
      c.env,
    ).mlp;
}
log('TensorFlow.js…');
for (const b of ['cpu', 'wasm']) {
  try {
    results.peers[`tfjs-${b}`] = await tfjsPeer(b, b === 'wasm' ? fashion : null);
  } catch (e) {
    results.peers[`tfjs-${b}`] = { skipped: String(e.message ?? e) };
  }
}
log('PyTorch…');
try {
  results.peers.pytorch = torchPeer(fashion ? fashionDir : null);
} catch (e) {
  results.peers.pytorch = { skipped: String(e.message ?? e) };
}

// ---------------------------------------------------------------- table
const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));
const rows = [];
const torch1 = results.peers.pytorch?.oneThread;
const torch2 = results.peers.pytorch?.twoThreads;
const names = configs.map((c) => c.name);
const kr = (name) => results.keel[name] ?? {};
const wdStep = (passes, pass) => passes?.[pass]?.['3']?.microsecondsPerStep;
for (const s of GEMMS.map((x) => x.join('x'))) {
  rows.push([
    `GEMM ${s} GFLOP/s`,
    ...names.map((n) => fmt(kr(n).gemm?.[s])),
    fmt(results.peers['tfjs-cpu']?.gemm?.[s]),
    fmt(results.peers['tfjs-wasm']?.gemm?.[s]),
    fmt(torch1?.gemm?.[s]),
    fmt(torch2?.gemm?.[s]),
  ]);
}
const best = (xs) => Math.min(...xs.filter((x) => typeof x === 'number'));
const torchMlp = [torch1?.mlp, torch2?.mlp].filter(Boolean).map((m) => median(m.epochSeconds.slice(1)));
rows.push([
  'dropout MLP s/epoch',
  ...names.map((n) => fmt(kr(n).mlp?.seconds, 2)),
  '—',
  fmt(results.peers['tfjs-wasm']?.mlp?.seconds, 2),
  fmt(torch1?.mlp ? median(torch1.mlp.epochSeconds.slice(1)) : null, 2),
  fmt(torch2?.mlp ? median(torch2.mlp.epochSeconds.slice(1)) : null, 2),
]);
for (const [label, pass] of [
  ['weight-decay µs/step (λ=3, steady)', 1],
  ['weight-decay µs/step (λ=3, cold)', 0],
]) {
  rows.push([
    label,
    ...names.map((n) => fmt(wdStep(kr(n).weightDecay, pass), 0)),
    '—',
    '—',
    fmt(wdStep(torch1?.weightDecay, pass), 0),
    fmt(wdStep(torch2?.weightDecay, pass), 0),
  ]);
}
rows.push(['32³ matmul + backward µs', ...names.map((n) => fmt(kr(n).autograd32us, 1)), '—', '—', '—', '—']);
const head = ['', ...names, 'tfjs-cpu', 'tfjs-wasm', 'torch 1 thr', 'torch OMP1×BLAS2'];
const wasmMlp = kr('keel-wasm').mlp?.seconds;
const g = (name, s) => kr(name).gemm?.[s];
results.ratios = {
  gemm256x784x256_keelWasm1thr_GFLOPs: g('keel-wasm-1thr', '256x784x256') ?? null,
  gemm256x784x256_keelWasm_GFLOPs: g('keel-wasm', '256x784x256') ?? null,
  gemm256x784x256_keelWasm_over_torch1:
    g('keel-wasm', '256x784x256') && torch1?.gemm
      ? g('keel-wasm', '256x784x256') / torch1.gemm['256x784x256']
      : null,
  mlpEpoch_keelWasm_over_bestTorch: wasmMlp && torchMlp.length ? wasmMlp / best(torchMlp) : null,
  mlpEpoch_tfjsWasm_over_keelWasm:
    wasmMlp && results.peers['tfjs-wasm']?.mlp ? results.peers['tfjs-wasm'].mlp.seconds / wasmMlp : null,
  weightDecayStep_keelWasm_over_torch1_steady: torch1?.weightDecay
    ? wdStep(kr('keel-wasm').weightDecay, 1) / wdStep(torch1.weightDecay, 1)
    : null,
  weightDecayStep_keelWasm_over_torch1_cold: torch1?.weightDecay
    ? wdStep(kr('keel-wasm').weightDecay, 0) / wdStep(torch1.weightDecay, 0)
    : null,
  autograd32_keelWasm_us: kr('keel-wasm').autograd32us ?? null,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
if (asJson) console.log(JSON.stringify(results, null, 2));
else {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(`\n${line(head)}\n${rows.map(line).join('\n')}`);
  console.log('\nratios:', JSON.stringify(results.ratios, null, 2));
  if (results.peers.pytorch?.skipped) console.log(`PyTorch: skipped — ${results.peers.pytorch.skipped}`);
  console.log(`wrote ${join(here, 'results', 'latest.json')}`);
}
