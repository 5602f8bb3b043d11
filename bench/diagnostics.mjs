// Overhead of training diagnostics at the default sampling rate (issue: ≤ 5%).
// Trains the dropout MLP (784-256-256-10, batch 256) on Fashion-MNIST (first 12800 images, or random
// data of the same shape when the data set is absent) for one epoch with and without
// `Diagnostics`, alternating, and reports the median time of each and the ratio.
// Run: npm run bench:diagnostics  (after npm run build)
import { fashionMlp } from '../dist/experiments/index.js';
import { data, diagnostics, optim, Rng, randint, randn, train } from '../dist/index.js';
import { findFashionMnist, readFashionMnist } from '../dist/io/node/index.js';

const N = 12800;
const dir = findFashionMnist();
const set = dir
  ? readFashionMnist(dir, 'train', N)
  : { images: randn([N, 784]), labels: randint(0, 10, [N]) };
const repeats = Number(process.env.REPEATS ?? 5);

async function epoch(withDiagnostics) {
  const g = new Rng(0);
  const model = fashionMlp([256, 256], [0.2, 0.5], g, 'default');
  const loader = new data.DataLoader(new data.TensorDataset(set.images, set.labels), {
    batchSize: 256,
    shuffle: true,
    generator: g,
  });
  const d = withDiagnostics
    ? new diagnostics.Diagnostics(model, process.env.EVERY ? { every: Number(process.env.EVERY) } : {})
    : null;
  const t0 = performance.now();
  await train.fit({
    model,
    optimizer: new optim.SGD(model.parameters(), { lr: 0.5 }),
    train: loader,
    epochs: 1,
    callbacks: d ? [d.callback()] : [],
  });
  return (performance.now() - t0) / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await epoch(false); // warm-up
const plain = [];
const watched = [];
for (let i = 0; i < repeats; i++) {
  plain.push(await epoch(false));
  watched.push(await epoch(true));
}
const result = {
  data: dir ? `Fashion-MNIST, first ${N} images` : `random data [${N}, 784]`,
  steps: N / 256,
  secondsWithout: median(plain),
  secondsWith: median(watched),
  overhead: median(watched) / median(plain) - 1,
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `diagnostics overhead (sampling every ${process.env.EVERY ?? 25} steps): ${(result.overhead * 100).toFixed(1)}% (target ≤ 5%)`,
);
