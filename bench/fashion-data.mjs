// Fashion-MNIST as bytes: what reading the data set costs a command, and what a compiled batch gather
// costs from uint8 pixels (ImageDataset, the fused gatherPixels kernel) against float32 images.
// 1. In fresh processes, alternating (the VM's drift hits both): the training split's gunzip
//    (gunzipWhole) and the whole split read into the kernels' memory (readFashionMnist), then its
//    float32 images made from the pixels (what reading `.images` costs, once).
// 2. In one process: 256 random rows of 784 gathered by a compiled step, from 60,000 rows of pixels
//    and of float32 images, alternating, median and best of 8 rounds of 234 batches (one epoch).
// Run: npm run build && node bench/fashion-data.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const dist = new URL('../dist/', import.meta.url).pathname;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.argv[2] === 'read') {
  await import(join(dist, 'io/node/engine.js'));
  const { findFashionMnist, readFashionMnist, gunzipWhole } = await import(
    join(dist, 'io/node/fashionMnist.js')
  );
  const dir = findFashionMnist();
  let t = performance.now();
  gunzipWhole(readFileSync(join(dir, 'train-images-idx3-ubyte.gz')), 256 * 1024 * 1024);
  const gunzip = performance.now() - t;
  t = performance.now();
  const set = readFashionMnist(dir, 'train');
  const read = performance.now() - t;
  t = performance.now();
  void set.images;
  const floats = performance.now() - t;
  console.log(JSON.stringify({ gunzip, read, floats }));
  process.exit(0);
}

const { findFashionMnist } = await import(join(dist, 'io/node/fashionMnist.js'));
if (!findFashionMnist()) {
  console.log('skipped: Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or KEEL_DATA)');
  process.exit(0);
}
const reads = [];
for (let i = 0; i < 4; i++)
  reads.push(JSON.parse(execFileSync(process.execPath, [self, 'read'], { encoding: 'utf8' })));
const ms = (k) =>
  `${median(reads.map((r) => r[k])).toFixed(0)} ms (${Math.min(...reads.map((r) => r[k])).toFixed(0)}–${Math.max(...reads.map((r) => r[k])).toFixed(0)})`;
console.log(
  `the training split, 4 fresh processes, median (range): gunzip ${ms('gunzip')}; read into the kernels' memory ${ms('read')}; its float32 images when first read ${ms('floats')}`,
);

await import(join(dist, 'io/node/engine.js'));
const k = await import(join(dist, 'index.js'));
const { filledResident } = await import(join(dist, 'tensor/create.js'));
const { rowsOf, tensorRows, ImageDataset, TensorDataset } = await import(join(dist, 'data/dataset.js'));
const N = 60000;
const P = 784;
const labels = k.zeros([N], { dtype: 'int32' });
const pixels = filledResident([N, P], 'uint8', (a) => {
  for (let i = 0; i < a.length; i++) a[i] = (i * 7 + (i >> 11)) & 255;
});
const floats = filledResident([N, P], 'float32', (a) => {
  const b = pixels.readSync();
  for (let i = 0; i < a.length; i++) a[i] = b[i] / 255;
});
const gathers = {
  pixels: tensorRows(new ImageDataset(pixels, labels)),
  float32: tensorRows(new TensorDataset(floats, labels)),
};
const perm = k.data.randperm(N, new k.Rng(1));
const idx = k.zeros([256], { dtype: 'int32' });
const times = { pixels: [], float32: [] };
const steps = Object.fromEntries(
  Object.entries(gathers).map(([n, src]) => [n, k.compile((i) => rowsOf(src, i)[0])]),
);
for (let round = 0; round < 8; round++)
  for (const name of Object.keys(gathers)) {
    let total = 0;
    for (let b = 0; b < 234; b++) {
      idx.storage.write(idx, perm.subarray(b * 256, (b + 1) * 256));
      const t = performance.now();
      steps[name](idx);
      total += performance.now() - t;
    }
    if (round > 0) times[name].push((total / 234) * 1000);
  }
console.log(
  `plan ops: pixels ${steps.pixels.lastPlanOps.join(', ')}; float32 ${steps.float32.lastPlanOps.join(', ')}`,
);
for (const [name, ts] of Object.entries(times))
  console.log(
    `gather of 256 random rows from ${name}: median ${median(ts).toFixed(1)} µs, best ${Math.min(...ts).toFixed(1)} µs a batch`,
  );
