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
// Prints a table and the targets of the native-backend issue; writes bench/results/latest.json.
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
    add(c.name, 'autograd32', res.autograd32us);
    if (torchOk && (c.name === 'keel-native-1thr' || c.name === 'keel-native')) {
      const t = torchPeer({ gemm: GEMMS, weightDecay: false }, c.name.endsWith('1thr') ? TORCH1 : TORCH2);
      peers.torchVersion = t.torch;
      for (const [s, v] of Object.entries(t.gemm))
        add(c.name.endsWith('1thr') ? 'torch-1thr' : 'torch-2thr', `gemm ${s}`, v);
    }
  }
  log(`round ${r}/${rounds}: the weight-decay run (cold and steady)…`);
  for (const c of keelConfigs.filter((x) => !x.name.endsWith('1thr') && (x.backend !== 'js' || r === 1))) {
    const wd = keelPeer({ backend: c.backend, weightDecayPasses: 2 }, c.env).weightDecay;
    add(c.name, 'wd cold', wd[0]['3'].microsecondsPerStep);
    add(c.name, 'wd steady', wd[1]['3'].microsecondsPerStep);
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
      `round ${r}/${rounds}: the dropout MLP, ${epochs} epochs each (keel, PyTorch OMP1×BLAS2, interleaved)…`,
    );
    const mlpOf = (res) => median(res.epochSeconds.slice(1));
    add(
      main,
      'mlp',
      mlpOf(keelPeer({ backend: main.replace('keel-', ''), mlpEpochs: epochs, fashion: fashionDir }).mlp),
    );
    if (torchOk) {
      const t = torchPeer({ fashion: fashionDir, epochs, weightDecay: false }, TORCH2);
      add('torch-2thr', 'mlp', median(t.mlp.epochSeconds.slice(1)));
      add('torch-2thr', 'mlp accuracy', t.mlp.testAccuracy);
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
      const best = keelPeer({
        backend: main.replace('keel-', ''),
        bestMlpEpochs: quick ? 1 : 2,
        fashion: fashionDir,
      }).bestMlp;
      add(main, 'best-mlp', quick ? best.epochSeconds[0] : median(best.epochSeconds.slice(1)));
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
  ...GEMMS.map((s) => [`gemm ${s.join('x')}`, `GEMM ${s.join('×')}, GFLOP/s`, 1]),
  ['mlp', 'dropout MLP, s/epoch', 2],
  ['mlp accuracy', 'dropout MLP test accuracy (torch)', 4],
  ['best-mlp', 'best-mlp network, s/epoch', 1],
  ['wd steady', 'weight-decay run, µs/step (steady)', 0],
  ['wd cold', 'weight-decay run, µs/step (cold)', 0],
  ['autograd32', '32³ matmul + backward, µs', 1],
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
  target(
    `GEMM ${s}, 1 thread: keel-native / torch ≥ 0.95`,
    ratio('keel-native-1thr', 'torch-1thr', `gemm ${s}`),
    (v) => v >= 0.95,
  );
  target(
    `GEMM ${s}, 2 threads: keel-native / torch ≥ 0.95`,
    ratio('keel-native', 'torch-2thr', `gemm ${s}`),
    (v) => v >= 0.95,
  );
}
target(
  'dropout MLP s/epoch: keel / torch OMP1×BLAS2 ≤ 0.8',
  ratio(main, 'torch-2thr', 'mlp'),
  (v) => v <= 0.8,
);
target(
  'weight-decay µs/step, steady: keel / torch 1 thread ≤ 0.5',
  ratio(main, 'torch-1thr', 'wd steady'),
  (v) => v <= 0.5,
);
target(
  'weight-decay µs/step, cold: keel / torch 1 thread ≤ 0.5',
  ratio(main, 'torch-1thr', 'wd cold'),
  (v) => v <= 0.5,
);
const a32 = stat(main, 'autograd32');
targets.push({
  name: '32³ matmul + backward < 5 µs',
  median: a32?.median ?? null,
  best: a32?.best ?? null,
  met: a32 ? a32.median < 5 : null,
});
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
