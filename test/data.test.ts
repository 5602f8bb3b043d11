/**
 * Data: loaders (batching, seeded shuffling, dropLast), splits, synthetic generators, the IDX
 * parser, and Fashion-MNIST from disk — the real files (Debian package, installed by .ci/run), the
 * missing-data message and corrupt/truncated files, and a verified download from a local server.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { stats as hostStats } from '../src/backend/host.js';
import * as k from '../src/index.js';
import { data, Rng } from '../src/index.js';
import * as fm from '../src/io/node/fashionMnist.js';
import { idxBytes } from './helpers.js';
import { needs } from './requires.js';

describe('DataLoader', () => {
  const ds = new data.TensorDataset(
    k.arange(10, undefined, 1, { dtype: 'float32' }).reshape([10, 1]),
    k.arange(10),
  );
  it('batches in order, with a smaller last batch unless dropLast', () => {
    const sizes = [...new data.DataLoader(ds, { batchSize: 4 })].map(([x]) => x.shape[0]);
    expect(sizes).toEqual([4, 4, 2]);
    expect(new data.DataLoader(ds, { batchSize: 4, dropLast: true }).length).toBe(2);
    const [first] = new data.DataLoader(ds, { batchSize: 3 });
    expect(first[1].toArray()).toEqual([0, 1, 2]);
  });
  it('shuffles with a seeded generator: same seed, same order; every sample once per epoch', () => {
    const order = (seed: number) =>
      [...new data.DataLoader(ds, { batchSize: 3, shuffle: true, generator: new Rng(seed) })].flatMap(
        ([, y]) => y.toArray() as number[],
      );
    expect(order(1)).toEqual(order(1));
    expect(order(1)).not.toEqual(order(2));
    expect([...order(1)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('randomSplit makes disjoint subsets by counts or fractions', () => {
    const [a, b] = data.randomSplit(ds, [0.7, 0.3], new Rng(0));
    expect([a.length, b.length]).toEqual([7, 3]);
    const all = [...a.indices, ...b.indices].sort((x, y) => x - y);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => data.randomSplit(ds, [3, 3])).toThrow(
      /must be counts adding up to 10 or fractions adding up to 1/,
    );
    const [batch] = new data.DataLoader(b, { batchSize: 3 });
    expect(batch[1].toArray()).toEqual(Array.from(b.indices));
  });
  it('gathers TensorDataset batches through one index tensor per batch size, fresh where a gradient could save it', () => {
    const rows = k.arange(12, undefined, 1, { dtype: 'float32' }).reshape([6, 2]);
    const d = new data.TensorDataset(rows, k.arange(6));
    d.batch(Int32Array.of(0, 1)); // the index of batch size 2, made once
    const a = d.batch(Int32Array.of(5, 0));
    const b = d.batch(Int32Array.of(1, 2));
    expect(a[0].toArray()).toEqual([
      [10, 11],
      [0, 1],
    ]); // a batch keeps its rows when the next is gathered
    expect(a[1].toArray()).toEqual([5, 0]);
    expect(b[1].toArray()).toEqual([1, 2]);
    const calls = hostStats.calls;
    for (let i = 0; i < 20; i++) d.batch(Int32Array.of(i % 6, 5 - (i % 6)));
    // The two gathered tensors a batch, no index tensor per batch.
    expect(hostStats.calls - calls).toBe(2 * 20);
    expect(() => d.batch(Int32Array.of(6))).toThrow(/index 6 is out of range for axis 0 of size 6/);
    // A data set tensor that requires grad: each batch's backward adds at its own rows.
    const w = k.ones([4, 3]).requiresGrad_();
    const dw = new data.TensorDataset(w);
    const [first] = dw.batch(Int32Array.of(0, 1));
    const [second] = dw.batch(Int32Array.of(3, 3));
    k.add(k.sum(first), k.mul(k.sum(second), 10)).backward();
    expect(w.grad?.toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [0, 0, 0],
      [20, 20, 20],
    ]);
  });
  it('collates datasets without a batch fast path', () => {
    const plain: data.Dataset = { length: 3, get: (i) => [k.full([2], i), k.tensor(i, { dtype: 'int32' })] };
    const [[x, y]] = new data.DataLoader(plain, { batchSize: 3 });
    expect(x.toArray()).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    expect(y.toArray()).toEqual([0, 1, 2]);
  });
  it('reuseBatches: the same batches, each handed back to the pool when the next is made', () => {
    // 50 rows of 400 floats: 80 KB a batch, large enough for the pool (small arrays come from slabs).
    const big = new data.TensorDataset(k.rand([600, 400], { generator: new Rng(3) }), k.arange(600));
    const opts = (reuseBatches: boolean) => ({
      batchSize: 50,
      shuffle: true,
      generator: new Rng(4),
      reuseBatches,
    });
    const run = (reuse: boolean) => {
      const seen: unknown[][] = [];
      const kept: k.Tensor[] = [];
      const fresh: number[] = [];
      for (const [x, y] of new data.DataLoader(big, opts(reuse))) {
        seen.push([x.toArray(), y.toArray()]);
        kept.push(x);
        fresh.push(hostStats.freshBytes);
      }
      // New host memory from the third batch to the last (at most one 64 KB slab for the labels).
      return { seen, kept, growth: (fresh.at(-1) ?? 0) - fresh[2] };
    };
    const plain = run(false);
    const { seen, kept, growth } = run(true);
    expect(seen).toEqual(plain.seen);
    // Without reuse a synchronous loop makes a new 80 KB buffer per batch; with it, none.
    expect(plain.growth).toBeGreaterThanOrEqual(9 * 80_000);
    expect(growth).toBeLessThanOrEqual(65_536);
    // A batch read after its turn of the loop says what happened and what to do.
    expect(() => kept[0].toArray()).toThrow(/DataLoader batch whose memory went back to the pool.*clone\(\)/);
    expect(() => kept.at(-1)?.toArray()).toThrow(/reuseBatches: true/);
    // Leaving the loop early hands the batch in hand back too; a clone stays readable.
    let copy: k.Tensor | null = null;
    for (const [x] of new data.DataLoader(big, opts(true))) {
      copy = x.clone();
      kept.push(x);
      break;
    }
    expect(() => kept.at(-1)?.toArray()).toThrow(/went back to the pool/);
    expect(copy?.shape).toEqual([50, 400]);
  });
  it('reuseBatches refuses datasets whose batches it does not own', () => {
    const plain: data.Dataset = { length: 3, get: (i) => [k.full([2], i)] };
    expect(() => new data.DataLoader(plain, { reuseBatches: true })).toThrow(
      /reuseBatches needs a TensorDataset or a Subset of one .*got Object/,
    );
    const sub = new data.Subset(ds, Int32Array.from([1, 3, 5]));
    const [[, y]] = new data.DataLoader(sub, { batchSize: 3, reuseBatches: false });
    expect(y.toArray()).toEqual([1, 3, 5]);
    expect(new data.DataLoader(sub, { reuseBatches: true }).reuseBatches).toBe(true);
  });
});

describe('images converted into the kernels’ memory (toImageSet, Backend.resident)', () => {
  it.each(k.availableBackends())(
    'on %s: the pixels / 255, where a compiled step reads them without moving them',
    (name) => {
      k.setBackend(name);
      try {
        const bytes = Uint8Array.from({ length: 6 * 4 * 4 }, (_, i) => (i * 37) % 256);
        const set = data.toImageSet(
          { shape: [6, 4, 4], data: bytes },
          { shape: [6], data: Uint8Array.from([0, 1, 2, 3, 4, 9]) },
          ['images', 'labels'],
        );
        expect(set.images.shape).toEqual([6, 16]);
        expect(Array.from(set.images.readSync())).toEqual(Array.from(bytes, (b) => Math.fround(b / 255)));
        const st = set.images.storage as { region?: { memory: unknown } | null; byteOffset?: number };
        const cpu = name === 'wasm' || name === 'native';
        expect(st.region != null, 'in the kernels’ memory').toBe(cpu);
        const at = st.byteOffset;
        const rows = k.tensor([5, 0, 2], { dtype: 'int32' });
        const step = k.compile((i: k.Tensor) => k.sum(k.indexSelect(set.images, 0, i), 1));
        const eager = Array.from(k.sum(k.indexSelect(set.images, 0, rows), 1).readSync());
        for (let r = 0; r < 2; r++) expect(Array.from(step(rows).readSync())).toEqual(eager);
        // Read in place: the plan did not move the images.
        expect(st.byteOffset).toBe(at);
      } finally {
        k.setBackend('wasm');
      }
    },
  );
});

describe('synthetic data', () => {
  it('weight-decay data: y = 0.05 + Σ 0.01·xᵢ + ε', () => {
    const d = data.weightDecayData({ d: 200, nTrain: 20, nTest: 100, seed: 1 });
    expect(d.train.length).toBe(20);
    expect(d.test.length).toBe(100);
    const [X, y] = d.test.tensors;
    const resid = k.sub(y, k.add(k.matmul(X, k.reshape(d.trueW, [200, 1])), 0.05));
    expect(k.std(resid).item()).toBeCloseTo(0.01, 2);
    expect(data.weightDecayData({ seed: 1 }).train.tensors[0].toArray()).toEqual(
      d.train.tensors[0].toArray(),
    );
  });
  it('polynomial data: features xⁱ/i!, labels from the cubic', () => {
    const p = data.polynomialData({ seed: 3 });
    expect(p.trainFeatures.shape).toEqual([100, 20]);
    const f = p.trainFeatures.toArray() as number[][];
    const x = f[0][1];
    expect(f[0][0]).toBe(1);
    expect(f[0][3]).toBeCloseTo(x ** 3 / 6, 5);
    const clean = 5 + 1.2 * x - (3.4 * (x * x)) / 2 + 5.6 * (x ** 3 / 6);
    expect(Math.abs((p.trainLabels.toArray() as number[][])[0][0] - clean)).toBeLessThan(0.5);
  });
  it('2-D sets have balanced labels and the right shapes', () => {
    for (const s of [data.moons(100), data.circles(100), data.spirals(90, 3), data.xor(100)]) {
      expect(s.X.shape[1]).toBe(2);
      expect(s.y.dtype).toBe('int32');
      expect(s.y.shape[0]).toBe(s.X.shape[0]);
    }
    expect(k.sum(data.moons(100).y).item()).toBe(50);
    const xr = data.xor(200);
    const [X, y] = [xr.X.toArray() as number[][], xr.y.toArray() as number[]];
    expect(X.every(([a, b], i) => (a * b < 0 ? 1 : 0) === y[i])).toBe(true);
  });
});

describe('IDX', () => {
  const header = (dims: number[]) => {
    const b = new Uint8Array(4 + 4 * dims.length);
    b.set([0, 0, 8, dims.length]);
    const v = new DataView(b.buffer);
    for (const [i, d] of dims.entries()) v.setUint32(4 + 4 * i, d, false);
    return b;
  };
  it('parses unsigned bytes', () => {
    const b = new Uint8Array([...header([2, 3]), 1, 2, 3, 4, 5, 6]);
    const r = data.parseIdx(b, 'x.idx');
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('names the file and the problem', () => {
    expect(() => data.parseIdx(new Uint8Array([...header([2, 3]), 1, 2]), 'x.idx')).toThrow(
      'x.idx: expected 18 bytes (header + 2×3 values), got 14 — the file is truncated',
    );
    expect(() => data.parseIdx(new Uint8Array([1, 2, 8, 1]), 'y.idx')).toThrow(/y.idx: not an IDX file/);
    expect(() => data.parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'z.idx')).toThrow(
      /type 0xd is not supported/,
    );
  });
});

describe('gunzipWhole', () => {
  const content = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 7)) & 255);
  const gz = new Uint8Array(gzipSync(content));
  it('inflates into one buffer sized by the trailer, the same bytes as gunzipSync', () => {
    const out = fm.gunzipWhole(gz, 1 << 20);
    expect(Buffer.compare(out, gunzipSync(gz))).toBe(0);
    // One chunk: the buffer is the content and the one spare byte, not a concatenation of 16 KB chunks.
    expect(out.buffer.byteLength).toBe(content.length + 1);
  });
  it('gives the same bytes when the trailer lies, and still caps the output', () => {
    for (const size of [1, 1000, 0xffffffff]) {
      const lying = gz.slice();
      new DataView(lying.buffer).setUint32(lying.length - 4, size, true);
      // zlib checks ISIZE at the end: a lying trailer is a corrupt file, refused as gunzipSync refuses it.
      expect(() => fm.gunzipWhole(lying, 1 << 20)).toThrow();
      expect(() => gunzipSync(lying)).toThrow();
    }
    expect(() => fm.gunzipWhole(gz, 1000)).toThrow(/Cannot create a Buffer larger than|maxOutputLength|1000/);
  });
});

describe('Fashion-MNIST on disk', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env.KEEL_DATA = saved.KEEL_DATA;
    process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
    if (saved.KEEL_DATA === undefined) delete process.env.KEEL_DATA;
    if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME;
  });
  const debian = needs('Fashion-MNIST', 'data.test') ? fm.findFashionMnist() : null;

  it.runIf(debian !== null)(
    'reads the real files: 60000/10000 images in [0, 1], labels 0..9, 10 classes',
    () => {
      const test = fm.readFashionMnist(debian as string, 'test');
      expect(test.images.shape).toEqual([10000, 784]);
      expect(test.labels.shape).toEqual([10000]);
      expect(k.amax(test.images).item()).toBe(1);
      expect(k.amin(test.images).item()).toBe(0);
      const counts = Array.from({ length: 10 }, (_, c) => k.sum(k.eq(test.labels, c)).item());
      expect(counts).toEqual(new Array(10).fill(1000));
      expect(data.FASHION_MNIST_CLASSES[9]).toBe('Ankle boot');
      expect(fm.readFashionMnist(debian as string, 'train', 100).images.shape).toEqual([100, 784]);
    },
  );

  it('missing data: says where it looked and exactly how to get it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'keel-empty-'));
    process.env.KEEL_DATA = empty;
    process.env.XDG_CACHE_HOME = empty;
    await expect(fm.locateFashionMnist({ dir: empty })).rejects.toThrow(fm.DataNotFoundError);
    try {
      await fm.locateFashionMnist({ dir: empty });
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('apt-get install dataset-fashion-mnist');
      expect(msg).toContain('KEEL_DATA');
      expect(msg).toContain('--download');
    }
  });

  function fakeDir(mutate?: (name: string, raw: Uint8Array) => Uint8Array): string {
    const dir = mkdtempSync(join(tmpdir(), 'keel-fm-'));
    for (const split of ['train', 'test'] as const) {
      const f = data.FASHION_MNIST_FILES[split];
      const files: [string, Uint8Array][] = [
        [f.images.name, gzipSync(idxBytes([3, 28, 28], 255))],
        [f.labels.name, gzipSync(idxBytes([3], 7))],
      ];
      for (const [name, raw] of files) writeFileSync(join(dir, name), mutate ? mutate(name, raw) : raw);
    }
    return dir;
  }

  it('KEEL_DATA is the one place looked at; files may be gzipped or not', async () => {
    const dir = fakeDir();
    process.env.KEEL_DATA = dir;
    expect(fm.searchDirs()).toEqual([dir]);
    expect(fm.findFashionMnist()).toBe(dir);
    // Unzip one file: a mix of .gz and plain files is read the same.
    const name = data.FASHION_MNIST_FILES.test.images.name;
    writeFileSync(join(dir, name.replace(/\.gz$/, '')), gunzipSync(readFileSync(join(dir, name))));
    rmSync(join(dir, name));
    expect(fm.readFashionMnist(dir, 'test').images.shape).toEqual([3, 784]);
    // Incomplete: named, with no fallback to another copy.
    rmSync(join(dir, data.FASHION_MNIST_FILES.train.labels.name));
    expect(fm.findFashionMnist()).toBeNull();
    await expect(fm.locateFashionMnist()).rejects.toThrow(
      `KEEL_DATA=${dir}: ${dir} lacks train-labels-idx1-ubyte[.gz] (with KEEL_DATA set nothing else is looked at`,
    );
    // Its fashion-mnist/ subdirectory is used when there is one.
    const parent = mkdtempSync(join(tmpdir(), 'keel-parent-'));
    mkdirSync(join(parent, 'fashion-mnist'));
    process.env.KEEL_DATA = parent;
    expect(fm.searchDirs()).toEqual([join(parent, 'fashion-mnist')]);
  });

  it('a download that cannot connect says the machine seems offline and how to install by hand', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    // A port nothing listens on: the connection is refused, as on a machine without a network.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const err = await fm.downloadFashionMnist(cache, `http://127.0.0.1:${port}/`).catch((e) => e as Error);
    expect(err).toBeInstanceOf(fm.DataNotFoundError);
    expect((err as Error).message).toContain(
      `failed: this machine seems to be offline or cannot reach 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect((err as Error).message).toContain(`Install the files by hand instead: copy the four files`);
    expect((err as Error).message).toContain('apt-get install dataset-fashion-mnist');
  });

  it('a truncated gzip file is named, not a crash', () => {
    const dir = fakeDir((name, raw) =>
      name.startsWith('t10k-images') ? raw.subarray(0, raw.length - 20) : raw,
    );
    expect(() => fm.readFashionMnist(dir, 'test')).toThrow(
      /t10k-images-idx3-ubyte.gz: not a valid gzip file or truncated/,
    );
    expect(fm.readFashionMnist(dir, 'train').images.shape).toEqual([3, 784]);
  });

  it('a truncated IDX payload and mismatched counts are named', () => {
    const dir = fakeDir((name, raw) =>
      name.startsWith('train-images') ? gzipSync(Buffer.from(gunzipSync(raw).subarray(0, 100))) : raw,
    );
    expect(() => fm.readFashionMnist(dir, 'train')).toThrow(
      /train-images-idx3-ubyte.gz: expected 2368 bytes.*truncated/,
    );
  });

  it('downloads from a server, verifies SHA-256 and refuses wrong content', async () => {
    const src = fakeDir();
    const server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(src, (req.url ?? '').slice(1))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const cache = mkdtempSync(join(tmpdir(), 'keel-cache-'));
      // The fake files are not the real data: the hash check must refuse them.
      await expect(fm.downloadFashionMnist(cache, `http://127.0.0.1:${port}/`)).rejects.toThrow(
        /SHA-256 of the content is [0-9a-f]{64}, expected c59f468a/,
      );
      await expect(fm.downloadFashionMnist(cache, `http://127.0.0.1:${port}/missing/`)).rejects.toThrow(
        /HTTP 404/,
      );
    } finally {
      server.close();
    }
  });
});
