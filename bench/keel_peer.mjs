// keel's side of bench/run.mjs, run in a fresh Node process per configuration (as PyTorch runs in
// its own Python process), so one framework's heap, JIT state or threads never slow another.
// Usage: node bench/keel_peer.mjs '<json: {backend, gemm, autograd32, weightDecayPasses, weightDecayEpochs, mlpEpochs, bestMlpEpochs, fashion, quick}>'
// Prints one JSON object, with the environment (keel info's facts). Threads: KEEL_THREADS in the
// environment (keel/node's engine reads it).
import '../dist/io/node/engine.js';
import { fashionMlp } from '../dist/experiments/index.js';
import * as k from '../dist/index.js';
import { readFashionMnist } from '../dist/io/node/index.js';
import { environmentInfo } from '../dist/io/node/info.js';
import { median, timeIt as timeItFor } from './timing.mjs';

const args = JSON.parse(process.argv[2]);
const quick = Boolean(args.quick);
const log = (...a) => console.error(...a);
const timeIt = (fn) => timeItFor(fn, quick ? 0.2 : 0.6);

function keelGemm(backend, [m, kk, n]) {
  const a = k.randn([m, kk]);
  const b = k.randn([kk, n]);
  if (backend === 'js' && m * kk * n > 3e7) return null; // minutes at ~2 GFLOP/s: skipped
  return (2 * m * kk * n) / timeIt(() => k.matmul(a, b)) / 1e9;
}

function keelAutograd32() {
  const a = k.randn([32, 32], { requiresGrad: true });
  const b = k.randn([32, 32], { requiresGrad: true });
  return (
    timeIt(() => {
      k.sum(k.matmul(a, b)).backward();
      a.grad = null;
      b.grad = null;
    }) * 1e6
  );
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
  const h = await train.fit({
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
        onEpochEnd: (r) =>
          void log(
            `    keel-${backend} epoch ${r.epoch}: ${r.seconds.toFixed(2)} s, test acc ${r.testAccuracy?.toFixed(4)}`,
          ),
      },
    ],
  });
  const secs = h.epochs.map((e) => e.seconds);
  return { epochSeconds: secs, seconds: median(secs.slice(1)), testAccuracy: h.epochs.at(-1).testAccuracy };
}

// The chapter's weight-decay run. The (λ = 0, λ = 3) sequence runs `passes` times in this process;
// each pass is recorded (pass 1 is cold: JIT compilation included), as in torch_bench.py.
function keelWeightDecay(passes) {
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
      let steps = 0;
      const t0 = performance.now();
      for (let e = 0; e < (args.weightDecayEpochs ?? 100); e++) {
        for (const [X, y] of loader) {
          opt.zeroGrad();
          k.add(
            k.mul(k.mean(k.square(k.sub(k.add(k.matmul(X, w), b), y))), 0.5),
            k.mul(k.nn.F.l2Penalty(w), lambda),
          ).backward();
          opt.step();
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
if (args.gemm) out.gemm = Object.fromEntries(args.gemm.map((s) => [s.join('x'), keelGemm(args.backend, s)]));
if (args.autograd32) out.autograd32us = keelAutograd32();
if (args.weightDecayPasses) out.weightDecay = keelWeightDecay(args.weightDecayPasses);
if (args.mlpEpochs && args.fashion) {
  const fashion = {
    train: readFashionMnist(args.fashion, 'train'),
    test: readFashionMnist(args.fashion, 'test'),
  };
  out.mlp = await keelMlp(args.backend, fashion, args.mlpEpochs);
}
if (args.bestMlpEpochs && args.fashion) {
  const fashion = {
    train: readFashionMnist(args.fashion, 'train'),
    test: readFashionMnist(args.fashion, 'test'),
  };
  out.bestMlp = await keelMlp(args.backend, fashion, args.bestMlpEpochs, true);
}
console.log(JSON.stringify(out));
