/**
 * `keel export` and `keel predict` as a user runs them: a trained run exports to ONNX (which
 * onnxruntime runs to keel's outputs) and to a safetensors state dict; predictions from the
 * checkpoint and from the ONNX file agree, from JSON, .npy, PNG directories and IDX files, with
 * class names, probabilities and (given labels) the accuracy; bad inputs are one clear line.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { dump } from 'npyjs';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../src/format/safetensors.js';
import { findFashionMnist } from '../src/io/node/fashionMnist.js';
import { KEEL, keel } from './keel-process.js';
import { needs } from './requires.js';

const FASHION = needs('Fashion-MNIST', 'export-process.test') ? findFashionMnist() : null;
/** A Fashion-MNIST file where keel found the data, gzipped or not. */
const fashionFile = (name: string) =>
  [join(FASHION ?? '', `${name}.gz`), join(FASHION ?? '', name)].find((f) => existsSync(f)) as string;
const tmp = () => mkdtempSync(join(tmpdir(), 'keel-export-'));

async function trainedRun(out: string, config: Record<string, unknown>): Promise<string> {
  const cfg = join(out, 'run.json');
  writeFileSync(cfg, JSON.stringify(config));
  const r = await keel(['--out', out, 'train', '--config', cfg, '--no-diagnostics'], { timeout: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return join(out, String(config.name));
}

interface Predictions {
  predictions: {
    sample: string;
    predicted: string;
    probability: number;
    top: { label: string; probability: number }[];
  }[];
  accuracy?: number;
}

describe.runIf(existsSync(KEEL))('keel export and keel predict', () => {
  it('exports a run to ONNX and safetensors; checkpoint, keel-read ONNX and onnxruntime agree', async () => {
    const out = tmp();
    const run = await trainedRun(out, {
      name: 'm',
      epochs: 2,
      data: { dataset: 'spirals', samples: 300, batchSize: 32 },
      model: { hidden: [16, 16], activation: 'gelu', dropout: 0.1, layerNorm: true },
    });
    const onnxFile = join(out, 'm.onnx');
    const weights = join(out, 'w.safetensors');
    const e = await keel(['export', '--checkpoint', run, '--onnx', onnxFile, '--safetensors', weights]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/exported m .*m\.onnx, .*w\.safetensors — input \[batch, 2\]/);
    expect(Object.keys(parseSafetensors(readFileSync(weights)).tensors)).toContain('1.weight');
    const points = [
      [0.1, 0.2],
      [-0.5, 0.3],
      [0.9, -0.7],
    ];
    const input = join(out, 'points.json');
    writeFileSync(input, JSON.stringify(points));
    const fromCk = await keel(['predict', '--checkpoint', run, '--input', input, '--json']);
    const fromOnnx = await keel(['predict', '--onnx', onnxFile, '--input', input, '--json']);
    expect(fromCk.code, fromCk.stderr).toBe(0);
    expect(fromOnnx.code, fromOnnx.stderr).toBe(0);
    const a = JSON.parse(fromCk.stdout) as Predictions;
    const b = JSON.parse(fromOnnx.stdout) as Predictions;
    expect(a.predictions.map((p) => p.predicted)).toEqual(b.predictions.map((p) => p.predicted));
    const session = await InferenceSession.create(readFileSync(onnxFile));
    const r = await session.run({
      input: new OrtTensor('float32', Float32Array.from(points.flat()), [3, 2]),
    });
    const logits = r.output.data as Float32Array;
    for (let n = 0; n < 3; n++) {
      const row = Array.from(logits.subarray(n * 3, n * 3 + 3));
      const z = row.map((v) => Math.exp(v - Math.max(...row)));
      const best = Math.max(...z) / z.reduce((s, v) => s + v, 0);
      expect(a.predictions[n].probability).toBeCloseTo(best, 5);
      expect(b.predictions[n].probability).toBeCloseTo(best, 5);
    }
    // The table: one row per sample, the top classes with percentages.
    const table = await keel(['predict', '--checkpoint', run, '--input', input]);
    expect(table.stdout.split('\n')[0]).toMatch(/^sample\s+predicted\s+p\s+next/);
    expect(table.stdout).toMatch(/\n0\s+class \d\s+\d+\.\d%\s+class \d \d+\.\d%, class \d \d+\.\d%/);
    // Bad requests: one line each, exit 1.
    const both = await keel(['predict', '--checkpoint', run, '--onnx', onnxFile, '--input', input]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(
      /give the model as --checkpoint <run or file> or as --onnx <file> \(one of them\)/,
    );
    writeFileSync(join(out, 'bad.json'), JSON.stringify([[1, 2, 3]]));
    const bad = await keel(['predict', '--checkpoint', run, '--input', join(out, 'bad.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.json: 3 values do not make samples of 2 features/);
    const none = await keel(['export', '--checkpoint', join(out, 'nope')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/say what to write: --onnx <file> and\/or --safetensors <file>/);
  }, 180_000);

  it.runIf(FASHION !== null)(
    'a Fashion-MNIST run predicts from IDX files (with accuracy), PNG directories and .npy arrays',
    async () => {
      const out = tmp();
      const run = await trainedRun(out, {
        name: 'f',
        epochs: 1,
        data: { dataset: 'fashion-mnist', limit: 2000, batchSize: 64 },
        model: { hidden: [64] },
        optimizer: { name: 'adam', lr: 0.003 },
      });
      const images = fashionFile('t10k-images-idx3-ubyte');
      const labels = fashionFile('t10k-labels-idx1-ubyte');
      const idx = await keel(
        ['predict', '--checkpoint', run, '--input', images, '--labels', labels, '--json'],
        {
          timeout: 120_000,
        },
      );
      expect(idx.code, idx.stderr).toBe(0);
      const r = JSON.parse(idx.stdout) as Predictions;
      expect(r.predictions.length).toBe(10000);
      expect(r.accuracy).toBeGreaterThan(0.6); // 2,000 images, one epoch: well above chance (0.1)
      expect(new Set(r.predictions.map((p) => p.predicted))).toContain('Ankle boot');
      // The first three test images as PNGs (gray, RGB, 16-bit) and as .npy: the same predictions.
      const { gunzipSync } = await import('node:zlib');
      const bytes = readFileSync(images);
      const raw = (images.endsWith('.gz') ? gunzipSync(bytes) : bytes).subarray(16, 16 + 3 * 784);
      const dir = join(out, 'pngs');
      mkdirSync(dir);
      const img = (n: number) => raw.subarray(n * 784, (n + 1) * 784);
      writeFileSync(
        join(dir, 'a.png'),
        encode({ width: 28, height: 28, data: img(0), channels: 1, depth: 8 }),
      );
      const rgb = new Uint8Array(784 * 3).map((_, i) => img(1)[Math.floor(i / 3)]);
      writeFileSync(join(dir, 'b.png'), encode({ width: 28, height: 28, data: rgb, channels: 3, depth: 8 }));
      const deep = Uint16Array.from(img(2), (v) => v * 257);
      writeFileSync(
        join(dir, 'c.png'),
        encode({ width: 28, height: 28, data: deep, channels: 1, depth: 16 }),
      );
      // A palette image of the first one: indices into 256 grays.
      const grays = Array.from({ length: 256 }, (_, v) => [v, v, v]);
      writeFileSync(
        join(dir, 'd.png'),
        encode({ width: 28, height: 28, data: img(0), channels: 1, depth: 8, palette: grays }),
      );
      const png = await keel(['predict', '--checkpoint', run, '--input', dir, '--json']);
      expect(png.code, png.stderr).toBe(0);
      const p = JSON.parse(png.stdout) as Predictions;
      expect(p.predictions.map((q) => q.sample)).toEqual(['a.png', 'b.png', 'c.png', 'd.png']);
      expect(p.predictions[3].probability).toBeCloseTo(r.predictions[0].probability, 5);
      for (let n = 0; n < 3; n++) {
        expect(p.predictions[n].predicted).toBe(r.predictions[n].predicted);
        expect(p.predictions[n].probability).toBeCloseTo(r.predictions[n].probability, 5);
      }
      const npy = join(out, 'x.npy');
      writeFileSync(npy, new Uint8Array(dump(new Uint8Array(raw), [3, 28, 28])));
      const fromNpy = JSON.parse(
        (await keel(['predict', '--checkpoint', run, '--input', npy, '--json'])).stdout,
      ) as Predictions;
      expect(fromNpy.predictions.map((q) => q.predicted)).toEqual(
        r.predictions.slice(0, 3).map((q) => q.predicted),
      );
      writeFileSync(
        join(dir, 'small.png'),
        encode({ width: 4, height: 4, data: new Uint8Array(16), channels: 1, depth: 8 }),
      );
      const small = await keel(['predict', '--checkpoint', run, '--input', dir]);
      expect(small.code).toBe(1);
      expect(small.stderr).toMatch(
        /small\.png: 4×4 pixels, the model takes 784 \(e\.g\. 28×28 for Fashion-MNIST\); resize it first/,
      );
    },
    240_000,
  );
});
