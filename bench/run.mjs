// keel benchmarks against peers measured in the same run: GEMM GFLOP/s, the dropout MLP on
// Fashion-MNIST (seconds per epoch, median of epochs 2..N), the chapter's weight-decay run (µs per
// step, cold and steady), a 32³ matmul with autograd, and best-mlp's network (s/epoch). Peers:
// keel native/wasm/js, TensorFlow.js cpu and wasm (devDependencies), PyTorch CPU via Debian's
// python3-torch when it imports.
//
// Protocol. Each keel configuration and each PyTorch configuration runs in a fresh process of its
// own (bench/keel_peer.mjs, bench/torch_bench.py). On a noisy VM whole runs drift by ±30% within
// minutes, so keel and PyTorch are interleaved — A, B, A, B, … for `--rounds` rounds (default 3)
// — and every figure is reported as the median over rounds and the best round; ratios use the
// medians (and, in brackets, the best rounds). TF.js runs once, in this process.
// Compiled steps (the default of fit) and eager ones are measured side by side; every training
// run also reports ArrayBuffer bytes per step, GC time and peak RSS.
// Prints a table and the targets of compiled steps; writes bench/results/latest.json.
// Usage: npm run bench [-- --json] [-- --epochs N] [-- --rounds N] [-- --quick]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../dist/io/node/engine.js';
import * as k from '../dist/index.js';
import { findFashionMnist, readFashionMnist } from '../dist/io/node/index.js';
import { environmentInfo } from '../dist/io/node/info.js';
import { median, timeIt as timeItFor } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const asJson = argv.includes('--json');
const quick = argv.includes('--quick');
const epochs = flag('--epochs', quick ? 2 : 3);
const rounds = flag('--rounds', quick ? 1 : 3);
const log = asJson ? (...a) => console.error(...a) : (...a) => console.log(...a);
const GEMMS = [
  [32, 32, 32],
  [256, 784, 256],
  [256, 256, 256],
  [1024, 1024, 1024],
];
const timeIt = (fn) => timeItFor(fn, quick ? 0.2 : 0.6);

// ---------------------------------------------------------------- peers
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

const torchOk = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
/** Runs bench/torch_bench.py with threading `env` (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS). */
function torchPeer(spec, env) {
  const out = execFileSync(
    '/usr/bin/python3',
    [join(here, 'torch_bench.py'), JSON.stringify({ threads: 1, ...spec })],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 1 << 24,
    },
  );
  return JSON.parse(out);
}
const TORCH1 = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
// DESIGN §4: PyTorch's best 2-core setting for the MLP is OMP 1 × OpenBLAS 2.
const TORCH2 = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '2' };

async function tfjsPeer(backendName, fashion) {
  const tf = await import('@tensorflow/tfjs');
  if (backendName === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${join(here, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
  }
  await tf.setBackend(backendName);
  await tf.ready();
  const res = { gemm: {}, mlp: null };
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
    res.mlp = { seconds: ((performance.now() - t0) / 1000) * (60000 / n) };
    x.dispose();
    y.dispose();
  }
  return res;
}

// ---------------------------------------------------------------- runs
const fashionDir = findFashionMnist();
const backends = k.availableBackends();
const keelConfigs = [
  ...(backends.includes('native')
    ? [
        { name: 'keel-native-1thr', backend: 'native', env: { KEEL_THREADS: '1' } },
        { name: 'keel-native', backend: 'native', env: {} },
      ]
    : []),
  { name: 'keel-wasm-1thr', backend: 'wasm', env: { KEEL_THREADS: '1' } },
  { name: 'keel-wasm', backend: 'wasm', env: {} },
  { name: 'keel-js', backend: 'js', env: {} },
];
const main = backends.includes('native') ? 'keel-native' : 'keel-wasm';
/** results.samples[config][metric] = one value per round. */
const samples = {};
const add = (config, metric, v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return;
  samples[config] ??= {};
  (samples[config][metric] ??= []).push(v);
};
const peers = {};

for (let r = 1; r <= rounds; r++) {
  log(`round ${r}/${rounds}: GEMM and 32³ autograd (keel and PyTorch, one process each, interleaved)…`);
  for (const c of keelConfigs) {
    if (c.backend === 'js' && r > 1) continue; // the reference: one round is enough
    const res = keelPeer({ backend: c.backend, gemm: GEMMS, autograd32: true }, c.env);
    for (const [s, v] of Object.entries(res.gemm)) add(c.name, `gemm ${s}`, v);
    for (const [s, v] of Object.entries(res.gemmOut ?? {})) add(c.name, `gemm ${s} out`, v);
    for (const [s, v] of Object.entries(res.gemmCompiled ?? {})) add(c.name, `gemm ${s} compiled`, v);
    for (const [s, v] of Object.entries(res.gemmRaw ?? {})) add(c.name, `gemm ${s} raw`, v);
    add(c.name, 'autograd32', res.autograd32us);
    add(c.name, 'autograd32 eager', res.autograd32usEager);
    if (torchOk && (c.name === 'keel-native-1thr' || c.name === 'keel-native')) {
      const t = torchPeer({ gemm: GEMMS, weightDecay: false }, c.name.endsWith('1thr') ? TORCH1 : TORCH2);
      peers.torchVersion = t.torch;
      for (const [s, v] of Object.entries(t.gemm))
        add(c.name.endsWith('1thr') ? 'torch-1thr' : 'torch-2thr', `gemm ${s}`, v);
    }
  }
  log(`round ${r}/${rounds}: the weight-decay run (cold and steady; compiled and eager, a process each)…`);
  for (const c of keelConfigs.filter((x) => !x.name.endsWith('1thr') && (x.backend !== 'js' || r === 1))) {
    for (const compile of [true, false]) {
      const wd = keelPeer({ backend: c.backend, weightDecayPasses: 2, compile }, c.env).weightDecay;
      const tag = compile ? '' : ' eager';
      add(c.name, `wd cold${tag}`, wd[0]['3'].microsecondsPerStep);
      add(c.name, `wd steady${tag}`, wd[1]['3'].microsecondsPerStep);
    }
    if (torchOk && c.name === main)
      for (const [tn, env] of [
        ['torch-1thr', TORCH1],
        ['torch-2thr', TORCH2],
      ]) {
        const t = torchPeer({ weightDecay: true }, env).weightDecay;
        add(tn, 'wd cold', t[0]['3'].microsecondsPerStep);
        add(tn, 'wd steady', t[1]['3'].microsecondsPerStep);
      }
  }
  if (fashionDir) {
    log(
      `round ${r}/${rounds}: the dropout MLP, ${epochs} epochs each (keel fit compiled and eager, a plain loop compiled and eager, PyTorch OMP1×BLAS2; interleaved)…`,
    );
    const mlpOf = (res) => median(res.epochSeconds.slice(1));
    const backend = main.replace('keel-', '');
    const memory = (name, m) => {
      add(main, `${name} bytes`, m.arrayBufferBytesPerStep);
      add(main, `${name} gc`, m.gcShare * 100);
      add(main, `${name} rss`, m.peakRssMiB);
    };
    for (const compile of [true, false]) {
      const fitRun = keelPeer({ backend, mlpEpochs: epochs, fashion: fashionDir, compile }).mlp;
      const tag = compile ? '' : ' eager';
      add(main, `mlp${tag}`, mlpOf(fitRun));
      add(main, `mlp accuracy${tag}`, fitRun.testAccuracy);
      memory(`fit${tag}`, fitRun.memory);
      if (torchOk && compile) {
        const t = torchPeer({ fashion: fashionDir, epochs, weightDecay: false }, TORCH2);
        add('torch-2thr', 'mlp', median(t.mlp.epochSeconds.slice(1)));
        add('torch-2thr', 'plain', median(t.mlp.epochSeconds.slice(1)));
        add('torch-2thr', 'mlp accuracy', t.mlp.testAccuracy);
        add('torch-2thr', 'plain rss', t.mlp.peakRssMiB);
      }
      const plainRun = keelPeer({ backend, plainEpochs: epochs, fashion: fashionDir, compile }).plain;
      add(main, `plain${tag}`, mlpOf(plainRun));
      memory(`plain${tag}`, plainRun.memory);
    }
    if (r === 1) {
      if (main !== 'keel-wasm')
        add(
          'keel-wasm',
          'mlp',
          mlpOf(keelPeer({ backend: 'wasm', mlpEpochs: epochs, fashion: fashionDir }).mlp),
        );
      if (torchOk)
        add(
          'torch-1thr',
          'mlp',
          median(
            torchPeer({ fashion: fashionDir, epochs, weightDecay: false }, TORCH1).mlp.epochSeconds.slice(1),
          ),
        );
      for (const compile of [true, false]) {
        const best = keelPeer({
          backend,
          bestMlpEpochs: quick ? 1 : 2,
          fashion: fashionDir,
          compile,
        }).bestMlp;
        add(
          main,
          `best-mlp${compile ? '' : ' eager'}`,
          quick ? best.epochSeconds[0] : median(best.epochSeconds.slice(1)),
        );
      }
    }
  }
}
log('TensorFlow.js…');
const fashion = fashionDir
  ? { train: readFashionMnist(fashionDir, 'train'), test: readFashionMnist(fashionDir, 'test') }
  : null;
for (const b of ['cpu', 'wasm']) {
  try {
    const t = await tfjsPeer(b, b === 'wasm' ? fashion : null);
    for (const [s, v] of Object.entries(t.gemm)) add(`tfjs-${b}`, `gemm ${s}`, v);
    if (t.mlp) add(`tfjs-${b}`, 'mlp', t.mlp.seconds);
  } catch (e) {
    peers[`tfjs-${b}`] = { skipped: String(e.message ?? e) };
  }
}

// ---------------------------------------------------------------- summary
const higherIsBetter = (metric) => metric.startsWith('gemm');
const stat = (config, metric) => {
  const xs = samples[config]?.[metric];
  if (!xs?.length) return null;
  return {
    median: median(xs),
    best: higherIsBetter(metric) ? Math.max(...xs) : Math.min(...xs),
    n: xs.length,
  };
};
const columns = [
  ...keelConfigs.map((c) => c.name),
  'tfjs-cpu',
  'tfjs-wasm',
  'torch-1thr',
  'torch-2thr',
].filter((c) => samples[c]);
const metrics = [
  ...GEMMS.flatMap((s) => [
    [`gemm ${s.join('x')}`, `GEMM ${s.join('×')}, GFLOP/s (k.matmul; torch a @ b)`, 1],
    [`gemm ${s.join('x')} out`, `  the same into a reused out (k.matmul(a, b, { out }))`, 1],
    [`gemm ${s.join('x')} compiled`, `  the same, compiled`, 1],
    [`gemm ${s.join('x')} raw`, `  cblas_sgemm through koffi, reused output`, 1],
  ]),
  ['mlp', 'dropout MLP, fit, s/epoch (compiled; torch: its loop)', 2],
  ['mlp eager', '  fit, eager', 2],
  ['plain', 'dropout MLP, plain loop over a DataLoader (reuseBatches), s/epoch (compiled)', 2],
  ['plain eager', '  plain loop, eager', 2],
  ['mlp accuracy', 'dropout MLP test accuracy', 4],
  ['mlp accuracy eager', '  fit eager', 4],
  ['fit bytes', 'fit compiled: ArrayBuffer bytes per step', 0],
  ['fit gc', 'fit compiled: GC, % of the time', 1],
  ['fit eager bytes', 'fit eager: ArrayBuffer bytes per step', 0],
  ['fit eager gc', 'fit eager: GC, % of the time', 1],
  ['plain bytes', 'plain loop compiled: ArrayBuffer bytes per step', 0],
  ['plain gc', 'plain loop compiled: GC, % of the time', 1],
  ['plain eager bytes', 'plain loop eager: ArrayBuffer bytes per step', 0],
  ['plain eager gc', 'plain loop eager: GC, % of the time', 1],
  ['plain rss', 'plain loop compiled: peak RSS, MiB', 0],
  ['plain eager rss', 'plain loop eager: peak RSS, MiB', 0],
  ['best-mlp', 'best-mlp network, s/epoch (compiled)', 2],
  ['best-mlp eager', '  eager', 2],
  ['wd steady', 'weight-decay run, µs/step, steady (compiled)', 0],
  ['wd steady eager', '  eager', 0],
  ['wd cold', 'weight-decay run, µs/step, cold (compiled)', 0],
  ['wd cold eager', '  eager', 0],
  ['autograd32', '32³ matmul + backward, µs (compiled)', 1],
  ['autograd32 eager', '  eager', 1],
];
const cell = (s, d) =>
  s ? (s.n > 1 ? `${s.median.toFixed(d)} [${s.best.toFixed(d)}]` : s.median.toFixed(d)) : '—';
const rows = metrics
  .filter(([m]) => columns.some((c) => stat(c, m)))
  .map(([m, label, d]) => [label, ...columns.map((c) => cell(stat(c, m), d))]);
const ratio = (a, b, metric) => {
  const x = stat(a, metric);
  const y = stat(b, metric);
  return x && y ? { median: x.median / y.median, best: x.best / y.best } : null;
};
const targets = [];
const target = (name, r, ok) =>
  targets.push({ name, median: r?.median ?? null, best: r?.best ?? null, met: r ? ok(r.median) : null });
for (const s of ['256x784x256', '1024x1024x1024']) {
  for (const [cfg, thr] of [
    ['keel-native-1thr', '1 thread'],
    ['keel-native', '2 threads'],
  ]) {
    target(
      `k.matmul ${s}, ${thr}: / raw cblas_sgemm on a reused output ≥ 0.95`,
      ratio(cfg, cfg, `gemm ${s}`) && {
        median: stat(cfg, `gemm ${s}`).median / stat(cfg, `gemm ${s} raw`).median,
        best: stat(cfg, `gemm ${s}`).best / stat(cfg, `gemm ${s} raw`).best,
      },
      (v) => v >= 0.95,
    );
    const c = stat(cfg, `gemm ${s} compiled`);
    const raw = stat(cfg, `gemm ${s} raw`);
    const o = stat(cfg, `gemm ${s} out`);
    target(
      `  k.matmul ${s} into a reused out, ${thr}: / raw ≥ 0.95`,
      o && raw ? { median: o.median / raw.median, best: o.best / raw.best } : null,
      (v) => v >= 0.95,
    );
    target(
      `  compiled k.matmul ${s}, ${thr}: / raw ≥ 0.95`,
      c && raw ? { median: c.median / raw.median, best: c.best / raw.best } : null,
      (v) => v >= 0.95,
    );
  }
}
target(
  'dropout MLP s/epoch, fit compiled: keel / torch OMP1×BLAS2 ≤ 0.6',
  ratio(main, 'torch-2thr', 'mlp'),
  (v) => v <= 0.6,
);
{
  const e = stat(main, 'plain eager');
  const t = stat('torch-2thr', 'plain');
  target(
    'dropout MLP s/epoch, plain loop eager: keel / torch OMP1×BLAS2 ≤ 1.0',
    e && t ? { median: e.median / t.median, best: e.best / t.best } : null,
    (v) => v <= 1,
  );
  const r = stat(main, 'plain eager rss');
  const tr = stat('torch-2thr', 'plain rss');
  target(
    `plain loop eager, peak RSS over ${epochs} epochs: keel / torch ≤ 1.5`,
    r && tr ? { median: r.median / tr.median, best: r.best / tr.best } : null,
    (v) => v <= 1.5,
  );
}
for (const [m, label] of [
  ['fit bytes', 'fit'],
  ['plain bytes', 'plain loop'],
]) {
  const b = stat(main, m);
  targets.push({
    name: `${label} compiled: ArrayBuffer bytes allocated per step = 0`,
    median: b?.median ?? null,
    best: b?.best ?? null,
    met: b ? b.median === 0 : null,
  });
  const g = stat(main, m.replace('bytes', 'gc'));
  targets.push({
    name: `${label} compiled: GC < 2% of the time`,
    median: g?.median ?? null,
    best: g?.best ?? null,
    met: g ? g.median < 2 : null,
  });
}
for (const kind of ['steady', 'cold'])
  target(
    `weight-decay µs/step, ${kind}, compiled: keel / torch 1 thread ≤ 0.5`,
    ratio(main, 'torch-1thr', `wd ${kind}`),
    (v) => v <= 0.5,
  );
const a32 = stat(main, 'autograd32');
targets.push({
  name: '32³ matmul + backward, compiled < 5 µs',
  median: a32?.median ?? null,
  best: a32?.best ?? null,
  met: a32 ? a32.median < 5 : null,
});
{
  const c = stat(main, 'best-mlp');
  const e = stat(main, 'best-mlp eager');
  target(
    'best-mlp network s/epoch: compiled / eager (same run)',
    c && e ? { median: c.median / e.median, best: c.best / e.best } : null,
    () => true,
  );
}
target('vs TF.js wasm (its s/epoch / keel’s)', ratio('tfjs-wasm', main, 'mlp'), () => true);

const results = {
  date: new Date().toISOString(),
  environment: environmentInfo(),
  torch:
    peers.torchVersion ??
    (torchOk
      ? null
      : 'not importable with /usr/bin/python3 (install python3-torch and libopenblas0-pthread)'),
  protocol: `one process per configuration; keel and PyTorch interleaved for ${rounds} rounds; median [best round]; GEMM: best rate after warm-up within a process; MLP: median of epochs 2..${epochs}; weight-decay: the (λ=0, λ=3) sequence twice, λ=3 of pass 1 (cold) and 2 (steady)`,
  samples,
  peers,
  targets,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
if (asJson) console.log(JSON.stringify(results, null, 2));
else {
  const head = ['', ...columns];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(
    `\n${results.environment.backends
      .filter((b) => b.loaded)
      .map((b) => `${b.name}: ${b.detail}`)
      .join('\n')}`,
  );
  console.log(`PyTorch ${results.torch}; ${results.protocol}\n`);
  console.log(`${line(head)}\n${rows.map(line).join('\n')}\n`);
  for (const t of targets)
    console.log(
      `${t.met === null ? '  ' : t.met ? '✔ ' : '✘ '}${t.name}: ${t.median === null ? '—' : `${t.median.toFixed(2)} [${t.best.toFixed(2)}]`}`,
    );
  for (const [n, p] of Object.entries(peers)) if (p?.skipped) console.log(`${n}: skipped — ${p.skipped}`);
  console.log(`wrote ${join(here, 'results', 'latest.json')}`);
}
