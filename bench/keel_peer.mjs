// keel's side of bench/run.mjs, run in a fresh Node process per configuration (as PyTorch runs in
// its own Python process), so one framework's heap, JIT state or threads never slow another.
// Usage: node bench/keel_peer.mjs '<json: {backend, gemm, autograd32, weightDecayPasses, weightDecayEpochs, mlpEpochs, bestMlpEpochs, plainEpochs, compile, fashion, quick}>'
// `compile` (default true) runs fit, the weight-decay loop, the 32³ step and the plain loop as
// compiled steps; false runs them eagerly. `gemm` also times the raw BLAS call on a reused output
// (native) and a compiled product. Every training run reports its host allocations (keel's pool:
// ArrayBuffer bytes it created), garbage-collection time (a PerformanceObserver on 'gc') and peak
// RSS. Prints one JSON object, with the environment (keel info's facts). Threads: KEEL_THREADS in
// the environment (keel/node's engine reads it).
import { PerformanceObserver } from 'node:perf_hooks';
import { stats as poolStats } from '../dist/backend/host.js';
import { backendByName } from '../dist/backend/registry.js';
import '../dist/io/node/engine.js';
import { fashionMlp } from '../dist/experiments/index.js';
import * as k from '../dist/index.js';
import { readFashionMnist } from '../dist/io/node/index.js';
import { environmentInfo } from '../dist/io/node/info.js';
import { median, timeIt as timeItFor } from './timing.mjs';

const args = JSON.parse(process.argv[2]);
const quick = Boolean(args.quick);
const compiled = args.compile ?? true;

/** GC time and keel's ArrayBuffer bytes between start() and stop(), and the peak RSS. */
function meter() {
  let gcMs = 0;
  let gcs = 0;
  let peakRss = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcs++;
    }
  });
  let t0 = 0;
  let bytes0 = 0;
  const sample = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  return {
    start() {
      obs.observe({ entryTypes: ['gc'] });
      t0 = performance.now();
      bytes0 = poolStats.freshBytes;
      sample();
    },
    sample,
    async stop(steps) {
      // GC entries arrive asynchronously.
      await new Promise((r) => setTimeout(r, 20));
      obs.disconnect();
      sample();
      const ms = performance.now() - t0;
      return {
        steps,
        gcMs,
        gcs,
        gcShare: gcMs / ms,
        arrayBufferBytesPerStep: (poolStats.freshBytes - bytes0) / steps,
        peakRssMiB: peakRss / 2 ** 20,
      };
    },
  };
}
const log = (...a) => console.error(...a);
const timeIt = (fn) => timeItFor(fn, quick ? 0.2 : 0.6);

function keelGemm(backend, [m, kk, n]) {
  const a = k.randn([m, kk]);
  const b = k.randn([kk, n]);
  if (backend === 'js' && m * kk * n > 3e7) return null; // minutes at ~2 GFLOP/s: skipped
  return (2 * m * kk * n) / timeIt(() => k.matmul(a, b)) / 1e9;
}

/** k.matmul into a reused `out` (PyTorch's out=): the eager call on the raw call's terms. */
function keelGemmOut(backend, [m, kk, n]) {
  if (backend === 'js' && m * kk * n > 3e7) return null;
  const a = k.randn([m, kk]);
  const b = k.randn([kk, n]);
  const out = k.zeros([m, n]);
  return (2 * m * kk * n) / timeIt(() => k.matmul(a, b, { out })) / 1e9;
}

/** The same product as a compiled step (operands read in place, the result in the plan's arena). */
function keelGemmCompiled(backend, [m, kk, n]) {
  if (backend === 'js') return null;
  const a = k.randn([m, kk]);
  const b = k.randn([kk, n]);
  const step = k.compile(() => k.matmul(a, b));
  return (2 * m * kk * n) / timeIt(() => step()) / 1e9;
}

/** cblas_sgemm called straight through koffi on a reused output (native only): the BLAS's own rate. */
function rawGemm([m, kk, n]) {
  const blas = backendByName('native')?.blas;
  if (!blas) return null;
  const a = k.randn([m, kk]).readSync();
  const b = k.randn([kk, n]).readSync();
  const c = new Float32Array(m * n);
  blas.setThreads(blas.threads());
  return (
    (2 * m * kk * n) /
    timeIt(() => blas.gemm('float32', false, false, m, n, kk, 1, a, kk, b, n, 0, c, n)) /
    1e9
  );
}

function keelAutograd32(compiled) {
  const a = k.randn([32, 32], { requiresGrad: true });
  const b = k.randn([32, 32], { requiresGrad: true });
  // The step returns its loss, as a training step does (so a plan keeps the forward product).
  const body = () => {
    a.grad = null;
    b.grad = null;
    const l = k.sum(k.matmul(a, b));
    l.backward();
    return l;
  };
  const step = compiled ? k.compile(body) : body;
  return timeIt(step) * 1e6;
}

/** The dropout MLP (SGD lr 0.5), or with `best` the best-mlp recipe's network (AdamW, batch 128). */
async function keelMlp(backend, fashion, epochs, best = false) {
  const g = new k.Rng(0);
  const { optim, data, train } = k;
  const model = best
    ? fashionMlp([1024, 512], [0.3, 0.3], g, 'default')
    : fashionMlp([256, 256], [0.2, 0.5], g, 'default');
  const loader = new data.DataLoader(new data.TensorDataset(fashion.train.images, fashion.train.labels), {
    batchSize: best ? 128 : 256,
    shuffle: true,
    generator: g,
  });
  void loader.length;
  // Metered from the end of epoch 1 (its traces, plans and first evaluation are one-off costs), or
  // from the start when there is one epoch: the steady state, as the plain loop measures it.
  const m = meter();
  if (epochs === 1) m.start();
  const h = await train.fit({
    compile: compiled,
    model,
    optimizer: best
      ? new optim.AdamW(model.parameters(), { lr: 2e-3 })
      : new optim.SGD(model.parameters(), { lr: 0.5 }),
    train: loader,
    test: new data.DataLoader(new data.TensorDataset(fashion.test.images, fashion.test.labels), {
      batchSize: 1000,
    }),
    epochs,
    callbacks: [
      {
        onEpochEnd: (r) => {
          m.sample();
          if (r.epoch === 1 && epochs > 1) m.start();
          log(
            `    keel-${backend}${compiled ? '' : ' eager'} epoch ${r.epoch}: ${r.seconds.toFixed(2)} s, test acc ${r.testAccuracy?.toFixed(4)}`,
          );
        },
      },
    ],
  });
  const secs = h.epochs.map((e) => e.seconds);
  return {
    epochSeconds: secs,
    seconds: median(secs.slice(1)),
    testAccuracy: h.epochs.at(-1).testAccuracy,
    eagerReasons: h.eagerReasons ?? [],
    memory: await m.stop(Math.max(epochs - 1, 1) * loader.length),
  };
}

/**
 * The dropout MLP in a plain loop, as a PyTorch user writes it (zeroGrad, forward, backward, step
 * on shuffled batches, no fit) over a DataLoader with reuseBatches, eagerly or with the step
 * compiled; seconds per epoch and memory.
 */
async function keelPlain(backend, fashion, epochs) {
  const g = new k.Rng(0);
  const { optim, nn } = k;
  const model = fashionMlp([256, 256], [0.2, 0.5], g, 'default');
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  // The batches come from a DataLoader whose batch memory is recycled (reuseBatches), as a user of
  // keel writes the loop; PyTorch's loop indexes X[idx] through its caching allocator.
  const loader = new k.data.DataLoader(new k.data.TensorDataset(fashion.train.images, fashion.train.labels), {
    batchSize: 256,
    shuffle: true,
    generator: g,
    reuseBatches: true,
  });
  const body = (x, y) => {
    opt.zeroGrad();
    const l = nn.F.crossEntropy(model.forward(x), y);
    l.backward();
    opt.step();
    return l;
  };
  const step = compiled ? k.compile(body) : body;
  const m = meter();
  const secs = [];
  let steps = 0;
  for (let e = 0; e < epochs; e++) {
    if (e === 1) m.start();
    const t0 = performance.now();
    for (const [x, y] of loader) {
      step(x, y);
      if (e > 0) steps++;
    }
    secs.push((performance.now() - t0) / 1000);
    m.sample();
    log(
      `    keel-${backend} plain loop${compiled ? ' (compiled)' : ''} epoch ${e + 1}: ${secs.at(-1).toFixed(2)} s`,
    );
  }
  return { epochSeconds: secs, seconds: median(secs.slice(1)), memory: await m.stop(Math.max(steps, 1)) };
}

// The chapter's weight-decay run. The (λ = 0, λ = 3) sequence runs `passes` times in this process;
// each pass is recorded (pass 1 is cold: JIT compilation included), as in torch_bench.py.
function keelWeightDecay(passes, compiled) {
  const d = k.data.weightDecayData({ d: 200, nTrain: 20, nTest: 100, seed: 0 });
  const out = [];
  for (let pass = 0; pass < passes; pass++) {
    const res = {};
    for (const lambda of [0, 3]) {
      const g = new k.Rng(1);
      const w = k.randn([200, 1], { generator: g }).requiresGrad_();
      const b = k.zeros([1]).requiresGrad_();
      const opt = new k.optim.SGD([w, b], { lr: 0.003 });
      const loader = new k.data.DataLoader(d.train, { batchSize: 5, shuffle: true, generator: g });
      const body = (X, y) => {
        opt.zeroGrad();
        k.add(
          k.mul(k.mean(k.square(k.sub(k.add(k.matmul(X, w), b), y))), 0.5),
          k.mul(k.nn.F.l2Penalty(w), lambda),
        ).backward();
        opt.step();
      };
      let steps = 0;
      const t0 = performance.now();
      // Compiled: the first call traces (inside the timed cold pass), the rest replay.
      const step = compiled ? k.compile(body) : body;
      for (let e = 0; e < (args.weightDecayEpochs ?? 100); e++) {
        for (const [X, y] of loader) {
          step(X, y);
          steps++;
        }
      }
      res[lambda] = {
        microsecondsPerStep: ((performance.now() - t0) / steps) * 1000,
        wNorm: Math.sqrt(k.sum(k.square(w)).item()),
      };
    }
    out.push(res);
  }
  return out;
}

k.setBackend(args.backend);
const out = { backend: args.backend, environment: environmentInfo() };
if (args.gemm) {
  out.gemm = Object.fromEntries(args.gemm.map((s) => [s.join('x'), keelGemm(args.backend, s)]));
  out.gemmOut = Object.fromEntries(args.gemm.map((s) => [s.join('x'), keelGemmOut(args.backend, s)]));
  out.gemmCompiled = Object.fromEntries(
    args.gemm.map((s) => [s.join('x'), keelGemmCompiled(args.backend, s)]),
  );
  if (args.backend === 'native')
    out.gemmRaw = Object.fromEntries(args.gemm.map((s) => [s.join('x'), rawGemm(s)]));
}
if (args.autograd32) {
  out.autograd32us = keelAutograd32(true);
  out.autograd32usEager = keelAutograd32(false);
}
if (args.weightDecayPasses) out.weightDecay = keelWeightDecay(args.weightDecayPasses, compiled);
if (args.mlpEpochs && args.fashion) {
  const fashion = {
    train: readFashionMnist(args.fashion, 'train'),
    test: readFashionMnist(args.fashion, 'test'),
  };
  out.mlp = await keelMlp(args.backend, fashion, args.mlpEpochs);
}
if (args.plainEpochs && args.fashion) {
  const fashion = {
    train: readFashionMnist(args.fashion, 'train'),
    test: readFashionMnist(args.fashion, 'test'),
  };
  out.plain = await keelPlain(args.backend, fashion, args.plainEpochs);
}
if (args.bestMlpEpochs && args.fashion) {
  const fashion = {
    train: readFashionMnist(args.fashion, 'train'),
    test: readFashionMnist(args.fashion, 'test'),
  };
  out.bestMlp = await keelMlp(args.backend, fashion, args.bestMlpEpochs, true);
}
console.log(JSON.stringify(out));
