/**
 * Input perturbations (data.transforms) and hidden-unit noise (nn.GaussianNoise): each one's
 * statistics (noise moments, shifts uniform on −k…k with zero fill, the flipped fraction, erased
 * rectangles and their areas against torchvision's recipe), the identity in eval, compiled calls equal
 * to eager ones and drawing anew at every call, and the DataLoader/fit wiring: the transform runs inside
 * the compiled step, evaluation never applies it.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';
import { data, nn, Rng, train } from '../src/index.js';
import { buildData, buildTransform } from '../src/run/build.js';
import { parseConfig } from '../src/run/config.js';

const T = data.transforms;
const on = (seed: number) => ({ generator: new Rng(seed), training: true });

/** Images whose pixels are all different: 1 + the pixel's index within its image. */
const numbered = (b: number, shape: number[]) => {
  const n = shape.reduce((a, c) => a * c, 1);
  const v = new Float32Array(b * n);
  for (let i = 0; i < v.length; i++) v[i] = 1 + (i % n);
  return k.tensor(v, { shape: [b, ...shape] });
};

/** |count − n·p| within 5 binomial standard deviations. */
const expectBinomial = (count: number, n: number, p: number) =>
  expect(Math.abs(count - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)) + 1e-9);

describe('gaussianNoise', () => {
  it('adds zero-mean noise of standard deviation σ; the identity in eval and for σ = 0', () => {
    const x = k.zeros([200, 500]);
    const y = T.gaussianNoise(0.3).apply(x, on(1)).readSync();
    let s = 0;
    let s2 = 0;
    for (const v of y) {
      s += v;
      s2 += v * v;
    }
    const n = y.length;
    expect(Math.abs(s / n)).toBeLessThan((5 * 0.3) / Math.sqrt(n));
    expect(Math.sqrt(s2 / n)).toBeCloseTo(0.3, 2);
    expect(T.gaussianNoise(0.3).apply(x, { generator: new Rng(1), training: false })).toBe(x);
    expect(T.gaussianNoise(0).apply(x, on(1))).toBe(x);
    expect(() => T.gaussianNoise(-1)).toThrow('gaussianNoise: std must be a finite number ≥ 0, got -1');
  });
});

describe('randomTranslate', () => {
  /** The (dy, dx) with out[i][j] = x[i − dy][j − dx] (0 outside), or null. */
  const shiftOf = (out: ArrayLike<number>, at: number, h: number, w: number, k_: number) => {
    for (let dy = -k_; dy <= k_; dy++)
      for (let dx = -k_; dx <= k_; dx++) {
        let ok = true;
        for (let i = 0; i < h && ok; i++)
          for (let j = 0; j < w && ok; j++) {
            const si = i - dy;
            const sj = j - dx;
            const want = si >= 0 && si < h && sj >= 0 && sj < w ? 1 + si * w + sj : 0;
            ok = out[at + i * w + j] === want;
          }
        if (ok) return [dy, dx] as const;
      }
    return null;
  };

  it('moves every image by a whole (dy, dx), uniform on −k…k each, filling with zeros', () => {
    const b = 2500;
    const [h, w, kk] = [6, 7, 2];
    const out = T.randomTranslate(kk)
      .apply(numbered(b, [h, w]), on(3))
      .readSync();
    const counts = new Map<string, number>();
    for (let s = 0; s < b; s++) {
      const d = shiftOf(out, s * h * w, h, w, kk);
      expect(d, `image ${s} is not a shifted copy`).not.toBeNull();
      counts.set(String(d), (counts.get(String(d)) ?? 0) + 1);
    }
    expect(counts.size).toBe(25);
    for (const c of counts.values()) expectBinomial(c, b, 1 / 25);
  });

  it('shifts all planes of an image alike, on flat rows of a given size too', () => {
    const b = 50;
    const x = numbered(b, [2 * 4 * 5]);
    const out = T.randomTranslate(1, { size: [4, 5] })
      .apply(x, on(4))
      .readSync();
    for (let s = 0; s < b; s++) {
      const d0 = shiftOf(out, s * 40, 4, 5, 1);
      expect(d0).not.toBeNull();
      // The second plane holds 21…40: the same shift of it, minus its offset 20 where not zero-filled.
      const plane = Array.from(out.subarray(s * 40 + 20, s * 40 + 40), (v) => (v === 0 ? 0 : v - 20));
      expect(shiftOf(plane, 0, 4, 5, 1)).toEqual(d0);
    }
  });

  it('is the identity in eval and for k = 0; names bad shapes and settings', () => {
    const x = numbered(3, [16]);
    expect(T.randomTranslate(2).apply(x, { generator: new Rng(0), training: false })).toBe(x);
    expect(T.randomTranslate(0).apply(x, on(0))).toBe(x);
    expect(() => T.randomTranslate(1).apply(numbered(2, [300]), on(0))).toThrow(
      'randomTranslate: rows of 300 features are not square images; give size: [height, width], or images of shape [B, H, W]',
    );
    expect(() => T.randomTranslate(1.5)).toThrow(
      'randomTranslate: maxShift must be an integer ≥ 0 (pixels), got 1.5',
    );
    expect(() => T.randomTranslate(1, { size: [4, 0] })).toThrow(
      'randomTranslate: size must be [height, width], two positive integers, got [4,0]',
    );
    expect(() => T.randomTranslate(1, { size: [3, 3] }).apply(numbered(2, [4, 5]), on(0))).toThrow(
      'randomTranslate: size [3,3] does not match the images of [2,4,5]',
    );
  });
});

describe('randomHorizontalFlip', () => {
  it('mirrors a fraction p of the images left–right and leaves the rest alone', () => {
    const b = 4000;
    const [h, w] = [3, 5];
    const x = numbered(b, [h, w]);
    const out = T.randomHorizontalFlip(0.3).apply(x, on(5)).readSync();
    let flipped = 0;
    for (let s = 0; s < b; s++) {
      const img = out.subarray(s * h * w, (s + 1) * h * w);
      const same = img.every((v, e) => v === 1 + e);
      const mirrored = img.every((v, e) => v === 1 + Math.floor(e / w) * w + (w - 1 - (e % w)));
      expect(same || mirrored, `image ${s}`).toBe(true);
      if (mirrored) flipped++;
    }
    expectBinomial(flipped, b, 0.3);
    expect(T.randomHorizontalFlip(0.3).apply(x, { generator: new Rng(0), training: false })).toBe(x);
    expect(() => T.randomHorizontalFlip(2)).toThrow('randomHorizontalFlip: p must be in [0, 1], got 2');
  });
});

describe('randomErasing', () => {
  /** The expected erased area fraction of torchvision's recipe with clamped sides, by simulation. */
  const expectedArea = (h: number, w: number, s: [number, number], r: [number, number]) => {
    const g = new Rng(99);
    let sum = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const area = (s[0] + (s[1] - s[0]) * g.random()) * h * w;
      const ratio = Math.exp(Math.log(r[0]) + (Math.log(r[1]) - Math.log(r[0])) * g.random());
      const rh = Math.min(h, Math.max(1, Math.floor(Math.sqrt(area * ratio) + 0.5)));
      const rw = Math.min(w, Math.max(1, Math.floor(Math.sqrt(area / ratio) + 0.5)));
      sum += (rh * rw) / (h * w);
    }
    return sum / n;
  };

  it('sets a rectangle to the value in a fraction p of the images, of the area torchvision draws', () => {
    const b = 4000;
    const [h, w] = [28, 28];
    const x = k.ones([b, h * w]);
    const out = T.randomErasing({ p: 0.5, value: 0.25 }).apply(x, on(6)).readSync();
    let erased = 0;
    let areas = 0;
    let other = 0;
    for (let s = 0; s < b; s++) {
      let [top, bottom, left, right, count] = [h, -1, w, -1, 0];
      for (let e = 0; e < h * w; e++) {
        const v = out[s * h * w + e];
        if (v !== 0.25) {
          if (v !== 1) other++;
          continue;
        }
        const [i, j] = [Math.floor(e / w), e % w];
        [top, bottom, left, right] = [
          Math.min(top, i),
          Math.max(bottom, i),
          Math.min(left, j),
          Math.max(right, j),
        ];
        count++;
      }
      if (count === 0) continue;
      erased++;
      // The erased pixels fill their bounding box: a rectangle.
      expect(count, `image ${s}`).toBe((bottom - top + 1) * (right - left + 1));
      areas += count / (h * w);
    }
    expect(other, 'pixels neither kept nor erased').toBe(0);
    expectBinomial(erased, b, 0.5);
    const mean = areas / erased;
    expect(Math.abs(mean - expectedArea(h, w, [0.02, 0.33], [0.3, 3.3]))).toBeLessThan(0.012);
  });

  it('erases every plane alike; the identity in eval; names bad settings', () => {
    const x = k.ones([20, 3, 6, 6]);
    const out = T.randomErasing({ p: 1 }).apply(x, on(7));
    const planes = out.readSync();
    for (let s = 0; s < 20; s++)
      for (let e = 0; e < 36; e++) {
        const v = planes[s * 108 + e];
        expect(planes[s * 108 + 36 + e]).toBe(v);
        expect(planes[s * 108 + 72 + e]).toBe(v);
      }
    expect(T.randomErasing().apply(x, { generator: new Rng(0), training: false })).toBe(x);
    expect(() => T.randomErasing({ scale: [0.5, 0.2] })).toThrow(
      'randomErasing: scale must be [lo, hi] with 0 < lo ≤ hi ≤ 1, got [0.5,0.2]',
    );
  });
});

describe('transforms inside compiled steps', () => {
  const cases: [string, () => data.transforms.Transform][] = [
    ['gaussianNoise', () => T.gaussianNoise(0.2)],
    ['randomTranslate', () => T.randomTranslate(2)],
    ['randomHorizontalFlip', () => T.randomHorizontalFlip()],
    ['randomErasing', () => T.randomErasing({ p: 0.7, value: 0.5 })],
    ['compose', () => T.compose(T.randomTranslate(1), T.randomHorizontalFlip(), T.gaussianNoise(0.1))],
  ];
  it.each(cases)('%s: a compiled call gives the eager numbers, and every call draws anew', (_, make) => {
    const x = k.rand([16, 64], { generator: new Rng(1) });
    const run = (compiled: boolean) => {
      const t = make();
      const g = new Rng(2);
      const body = (a: k.Tensor) => t.apply(a, { generator: g, training: true });
      const f = compiled ? k.compile(body) : body;
      return [0, 1, 2].map(() => Array.from(f(x).readSync()));
    };
    const eager = run(false);
    const plan = run(true);
    expect(plan).toEqual(eager);
    expect(plan[1]).not.toEqual(plan[0]);
    expect(plan[2]).not.toEqual(plan[1]);
  });

  it('compose applies its transforms in order from one generator', () => {
    const x = numbered(8, [4, 4]);
    const a = T.randomTranslate(1);
    const b = T.randomErasing({ p: 1 });
    const g = new Rng(3);
    const twice = b.apply(a.apply(x, { generator: g, training: true }), { generator: g, training: true });
    expect(Array.from(T.compose(a, b).apply(x, on(3)).readSync())).toEqual(Array.from(twice.readSync()));
    expect(T.compose(a, b).name).toBe(
      'compose(randomTranslate(1), randomErasing(p=1, scale=[0.02, 0.33], ratio=[0.3, 3.3], value=0))',
    );
    expect(T.compose(a, b).apply(x, { generator: g, training: false })).toBe(x);
  });
});

describe('nn.GaussianNoise', () => {
  it('adds N(0, σ²) in training, is the identity in eval, and passes the gradient unchanged', () => {
    const layer = new nn.GaussianNoise(0.5, new Rng(1));
    const x = k.zeros([100, 400], { requiresGrad: true });
    const y = layer.forward(x);
    const v = y.readSync();
    const sd = Math.sqrt(Array.from(v, Number).reduce((s, u) => s + u * u, 0) / v.length);
    expect(sd).toBeCloseTo(0.5, 2);
    k.sum(y).backward();
    expect((x.grad as k.Tensor).readSync().every((g) => g === 1)).toBe(true); // d(x + ε)/dx = 1
    layer.eval();
    expect(layer.forward(x)).toBe(x);
    expect(layer.extraRepr()).toBe('std=0.5');
    expect(() => new nn.GaussianNoise(Number.NaN)).toThrow(
      'GaussianNoise: std must be a finite number ≥ 0, got NaN',
    );
  });

  it('mlp puts it after each hidden activation; compiled training steps redraw it', async () => {
    const model = nn.mlp({ inputs: 4, hidden: [8, 8], outputs: 2, noise: [0.1, 0.2], generator: new Rng(0) });
    expect(model.layers.map((m) => m.constructor.name)).toEqual([
      'Flatten',
      'Linear',
      'ReLU',
      'GaussianNoise',
      'Linear',
      'ReLU',
      'GaussianNoise',
      'Linear',
    ]);
    const g = new Rng(5);
    const layer = new nn.GaussianNoise(0.3, g);
    const f = k.compile((a: k.Tensor) => layer.forward(a));
    const x = k.zeros([4, 4]);
    const first = Array.from(f(x).readSync());
    expect(Array.from(f(x).readSync())).not.toEqual(first);
  });
});

describe('DataLoader transform and fit', () => {
  const setup = (transform?: data.transforms.Transform) => {
    const g = new Rng(11);
    const x = k.rand([96, 16], { generator: g });
    const y = k.randint(0, 3, [96], { generator: g });
    const ds = new data.TensorDataset(x, y);
    const model = nn.mlp({ inputs: 16, hidden: [12], outputs: 3, dropout: 0.2, generator: new Rng(1) });
    const loader = new data.DataLoader(ds, {
      batchSize: 32,
      shuffle: true,
      generator: new Rng(2),
      transform,
    });
    return { ds, model, loader, test: new data.DataLoader(ds, { batchSize: 48 }) };
  };

  it('the loader yields transformed inputs (labels untouched), raw ones with augment false', () => {
    const { ds, loader } = setup(T.gaussianNoise(0.5));
    const [[x, y]] = loader.batches(Int32Array.from({ length: 96 }, (_, i) => i));
    const [[rx, ry]] = loader.batches(
      Int32Array.from({ length: 96 }, (_, i) => i),
      0,
      false,
    );
    const raw = ds.tensors[0].readSync().subarray(0, 32 * 16);
    expect(Array.from(rx.readSync())).toEqual(Array.from(raw));
    expect(Array.from(x.readSync())).not.toEqual(Array.from(raw));
    expect(Array.from(y.readSync())).toEqual(Array.from(ry.readSync()));
  });

  it('fit applies it inside the compiled step (the eager numbers), evaluation never', async () => {
    const run = async (compile: boolean, transform?: data.transforms.Transform) => {
      const { model, loader, test } = setup(transform);
      const h = await train.fit({
        model,
        optimizer: new k.optim.SGD(model.parameters(), { lr: 0.1 }),
        train: loader,
        test,
        epochs: 3,
        compile,
      });
      return { h, model, test, loader };
    };
    const t = () => T.compose(T.randomTranslate(1), T.randomHorizontalFlip(), T.gaussianNoise(0.1));
    const compiled = await run(true, t());
    const eager = await run(false, t());
    const plain = await run(true);
    expect(compiled.h.eagerReasons).toBeUndefined();
    expect(compiled.h.epochs.map((e) => e.trainLoss)).toEqual(eager.h.epochs.map((e) => e.trainLoss));
    expect(compiled.h.epochs.map((e) => e.testLoss)).toEqual(eager.h.epochs.map((e) => e.testLoss));
    expect(compiled.h.epochs[0].trainLoss).not.toBe(plain.h.epochs[0].trainLoss);
    // Evaluating with the training loader (which has the transform) is the evaluation of the raw rows.
    const withT = train.evaluate(compiled.model, compiled.loader);
    const raw = train.evaluate(compiled.model, compiled.test);
    expect(withT.loss).toBeCloseTo(raw.loss, 6);
  });
});

describe('the run configuration', () => {
  it('builds the transforms in their order; spatial ones need images', () => {
    const c = parseConfig({ data: { transforms: { translate: 2, flip: 0.5, erase: 0.25, noise: 0.1 } } });
    expect(buildTransform(c)?.name).toBe(
      'compose(randomTranslate(2), randomHorizontalFlip(0.5), randomErasing(p=0.25, scale=[0.02, 0.33], ratio=[0.3, 3.3], value=0), gaussianNoise(0.1))',
    );
    expect(buildTransform(parseConfig({}))).toBeNull();
    expect(() => parseConfig({ data: { dataset: 'moons', transforms: { flip: 0.5 } } })).toThrow(
      "config.data.transforms.flip: moves or erases pixels, so it needs images (dataset 'fashion-mnist'), not 'moons' points; use transforms.noise there, got 0.5",
    );
    const moons = buildData(parseConfig({ data: { dataset: 'moons', transforms: { noise: 0.2 } } }), null);
    expect(moons.train.transform?.name).toBe('gaussianNoise(0.2)');
    expect(moons.test.transform).toBeNull();
    expect(() => parseConfig({ model: { hidden: [4, 4], noise: [0.1] } })).toThrow(
      'config.model.noise: 1 noise levels for 2 hidden layers: give one per hidden layer, or one number for all',
    );
  });
});
