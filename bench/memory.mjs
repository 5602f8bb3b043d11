// Resident memory across epochs of the dropout MLP on Fashion-MNIST (the target: from epoch 2 to
// epoch 10 it grows by less than 10%, "memory stays flat"), with no dispose/tidy anywhere.
// Run: npm run build && node bench/memory.mjs [epochs]
import '../dist/io/node/engine.js';
import { fashionMlp } from '../dist/experiments/index.js';
import * as k from '../dist/index.js';
import { findFashionMnist, readFashionMnist } from '../dist/io/node/index.js';

const epochs = Number(process.argv[2] ?? 10);
const dir = findFashionMnist();
const N = 60000;
const set = dir
  ? readFashionMnist(dir, 'train')
  : { images: k.rand([N, 784]), labels: k.randint(0, 10, [N]) };
const g = new k.Rng(0);
const { optim, data, train } = k;
const model = fashionMlp([256, 256], [0.2, 0.5], g, 'default');
const rss = [];
await train.fit({
  model,
  optimizer: new optim.SGD(model.parameters(), { lr: 0.5 }),
  train: new data.DataLoader(new data.TensorDataset(set.images, set.labels), {
    batchSize: 256,
    shuffle: true,
    generator: g,
  }),
  epochs,
  callbacks: [
    {
      onEpochEnd(r) {
        const m = process.memoryUsage();
        rss.push(m.rss);
        console.log(
          `epoch ${r.epoch}: rss ${(m.rss / 2 ** 20).toFixed(1)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, wasm+buffers ${(m.arrayBuffers / 2 ** 20).toFixed(1)} MiB, ${r.seconds.toFixed(2)} s`,
        );
        return undefined;
      },
    },
  ],
});
const growth = rss.at(-1) / rss[1] - 1;
console.log(
  `backend ${k.getBackend()}: RSS growth from epoch 2 to epoch ${epochs}: ${(growth * 100).toFixed(1)}% (target < 10%)`,
);
