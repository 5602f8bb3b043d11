/**
 * `keel demo`: a short tour of what keel does today, on synthetic data so it needs nothing but
 * the package — fit a two-layer MLP with reverse-mode autograd and plain SGD, check its gradients
 * against finite differences, compare the memory kept for training with prediction, and write the
 * computational graph as DOT and Mermaid files under `runs/demo/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as k from '../index.js';

export interface DemoOptions {
  outDir: string;
  seed: number;
  log: (line: string) => void;
}

function mlp(x: k.Tensor, p: k.Tensor[]): k.Tensor {
  const [w1, b1, w2, b2] = p;
  return k.add(k.matmul(k.relu(k.add(k.matmul(x, w1), b1)), w2), b2);
}

/** Runs the tour; returns the final training loss. */
export function runDemo(opts: DemoOptions): { finalLoss: number; initialLoss: number } {
  const { log } = opts;
  const g = new k.Generator(opts.seed);
  log('keel demo — tensors, autograd and the computational graph');
  // Data: y = sin(3x) + noise on [-1, 1].
  const x = k.mul(k.sub(k.rand([256, 1], { generator: g }), 0.5), 2);
  const target = k.tensor(
    Float32Array.from(x.toTypedArray(), (v) => Math.sin(3 * v)),
    { shape: [256, 1] },
  );
  const y = k.add(target, k.mul(k.randn([256, 1], { generator: g }), 0.05));
  const hidden = 32;
  const params = [
    k.mul(k.randn([1, hidden], { generator: g }), 1),
    k.zeros([hidden]),
    k.mul(k.randn([hidden, 1], { generator: g }), 1 / Math.sqrt(hidden)),
    k.zeros([1]),
  ].map((t) => t.requiresGrad_());
  const lr = 0.1;
  let initialLoss = Number.NaN;
  let loss = Number.NaN;
  for (let step = 0; step <= 2000; step++) {
    const l = k.mean(k.square(k.sub(mlp(x, params), y)));
    l.backward();
    k.noGrad(() => {
      for (const p of params) {
        p.data.set(k.sub(p, k.mul(p.grad as k.Tensor, lr)).toTypedArray());
        p.grad = null;
      }
    });
    loss = l.item();
    if (step === 0) initialLoss = loss;
    if (step % 500 === 0) log(`  step ${String(step).padStart(4)}  mse ${loss.toFixed(5)}`);
  }
  log(`fitted y = sin(3x): mse ${initialLoss.toFixed(4)} → ${loss.toFixed(4)}`);

  const xs = k.tensor(x.toTypedArray().slice(0, 4), { dtype: 'float64', shape: [4, 1] });
  const p64 = params.map((p) => k.cast(p.detach(), 'float64').requiresGrad_());
  const check = k.gradcheck((...ps) => mlp(xs, ps), p64);
  log(
    `gradcheck of the MLP (float64, ${check.checked} elements): ${check.passed ? 'passed' : 'FAILED'}, max |error| ${check.maxAbsError.toExponential(2)}`,
  );

  const batch = k.randn([256, 1], { generator: g });
  const train = k.graphStats(mlp(batch, params));
  const predict = k.savedBytes(k.noGrad(() => mlp(batch, params)));
  log(
    `memory kept for backward at batch 256: training ${train.savedBytes} B (activations ${train.activationBytes} B), prediction ${predict} B`,
  );

  const dir = resolve(opts.outDir);
  mkdirSync(dir, { recursive: true });
  const out = k.mean(k.square(k.sub(mlp(k.narrow(x, 0, 0, 8), params), k.narrow(y, 0, 0, 8))));
  out.name = 'loss';
  writeFileSync(join(dir, 'graph.dot'), k.toDot(out));
  writeFileSync(join(dir, 'graph.mmd'), k.toMermaid(out));
  log(`computational graph written to ${join(dir, 'graph.dot')} and ${join(dir, 'graph.mmd')}`);
  return { finalLoss: loss, initialLoss };
}
