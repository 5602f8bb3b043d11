/**
 * The inputs of `keel predict`, as a float32 [N, features] tensor with a name per sample: an IDX
 * image file (Fashion-MNIST's format, gzipped or not; pixels / 255), a directory of PNG images
 * (npm fast-png, loaded when needed; grayscale by luminance, pixels / 255 or / 65535 for 16-bit; each must have the
 * model's pixel count — 28×28 for Fashion-MNIST, light objects on a dark background as there), a
 * NumPy .npy array (npm npyjs, loaded when needed; uint8 is scaled / 255, floats used as they are) or a JSON array of
 * numbers (one sample or a list). Anything else, or a sample of the wrong size, is one clear error.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DataFormatError } from '../../data/idx.js';
import { fromHost } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { optionalPackage } from '../../util/optional.js';
import { idxFromFileBytes } from './fashionMnist.js';

/** Samples to predict on. */
export interface PredictInput {
  x: Tensor;
  names: string[];
}

function samples(
  values: ArrayLike<number>,
  count: number,
  features: number,
  path: string,
  scale: number,
): PredictInput {
  if (count * features !== values.length || count === 0)
    throw new DataFormatError(
      `${path}: ${values.length} values do not make samples of ${features} features (the model's input size)`,
    );
  const x = new Float32Array(values.length);
  for (let i = 0; i < x.length; i++) x[i] = values[i] / scale;
  return {
    x: fromHost(x, [count, features], 'float32'),
    names: Array.from({ length: count }, (_, i) => `${i}`),
  };
}

/** Reads `path` (file or directory) as samples of `features` values each. */
export async function readPredictInput(path: string, features: number): Promise<PredictInput> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new DataFormatError(
      `${path} does not exist (give an IDX file, a directory of PNGs, a .npy or a .json file)`,
    );
  }
  if (st.isDirectory()) return pngDirectory(path, features);
  const bytes = readFileSync(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.json') {
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new DataFormatError(`${path}: not valid JSON (${(e as Error).message})`);
    }
    const rows = Array.isArray(raw) && raw.every((r) => typeof r === 'number') ? [raw] : raw;
    const flat = Array.isArray(rows) ? (rows as unknown[]).flat(Number.POSITIVE_INFINITY) : [];
    if (!Array.isArray(rows) || !flat.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new DataFormatError(
        `${path}: expected an array of numbers, or an array of such arrays (one per sample)`,
      );
    return samples(flat as number[], (rows as unknown[]).length, features, path, 1);
  }
  if (ext === '.npy') {
    const { parse: parseNpy } = await optionalPackage(
      () => import('npyjs'),
      ['npyjs'],
      'reading .npy inputs',
    );
    let a: ReturnType<typeof parseNpy>;
    try {
      const copy = new Uint8Array(bytes);
      a = parseNpy(copy.buffer);
    } catch (e) {
      throw new DataFormatError(`${path}: not a valid .npy file (${(e as Error).message})`);
    }
    if (a.fortranOrder)
      throw new DataFormatError(`${path}: Fortran-ordered arrays are not read (save it C-ordered)`);
    if (!['u1', 'f4', 'f8', 'i4', 'i8', 'f2'].includes(a.dtype))
      throw new DataFormatError(`${path}: dtype ${a.dtype} is not read (uint8, int32, int64 or floats)`);
    const data = a.data as unknown as ArrayLike<number | bigint>;
    const values = Array.from({ length: data.length }, (_, i) => Number(data[i]));
    const count = a.shape.length <= 1 ? 1 : a.shape[0];
    return samples(values, count, features, path, a.dtype === 'u1' ? 255 : 1);
  }
  // IDX, as Fashion-MNIST ships it.
  const idx = idxFromFileBytes(bytes, path);
  return samples(idx.data, idx.shape[0] ?? 0, features, path, 255);
}

async function pngDirectory(dir: string, features: number): Promise<PredictInput> {
  const { convertIndexedToRgb, decode } = await optionalPackage(
    () => import('fast-png'),
    ['fast-png'],
    'reading PNG inputs',
  );
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.png'))
    .sort();
  if (files.length === 0) throw new DataFormatError(`${dir}: no .png files in this directory`);
  const x = new Float32Array(files.length * features);
  files.forEach((f, n) => {
    const path = join(dir, f);
    let img: ReturnType<typeof decode>;
    try {
      img = decode(readFileSync(path));
    } catch (e) {
      throw new DataFormatError(`${path}: not a valid PNG (${(e as Error).message})`);
    }
    if (img.width * img.height !== features)
      throw new DataFormatError(
        `${path}: ${img.width}×${img.height} pixels, the model takes ${features} (e.g. 28×28 for Fashion-MNIST); resize it first`,
      );
    // A palette image: its indices become the palette's colours (RGB or RGBA, 8-bit).
    const indexed = img.palette !== undefined;
    const d = (indexed ? convertIndexedToRgb(img) : img.data) as ArrayLike<number>;
    const c = indexed ? d.length / features : img.channels;
    const max = !indexed && img.depth === 16 ? 65535 : 255;
    for (let p = 0; p < features; p++) {
      const o = p * c;
      // Luminance (ITU-R BT.601) of colour pixels; alpha is ignored.
      const v = c >= 3 ? 0.299 * d[o] + 0.587 * d[o + 1] + 0.114 * d[o + 2] : d[o];
      x[n * features + p] = v / max;
    }
  });
  return { x: fromHost(x, [files.length, features], 'float32'), names: files };
}

/**
 * The labels of `n` input samples from an IDX label file (`--labels`, `--target-labels`); with
 * `classes`, each must be a class of the model (0..classes − 1).
 */
export function readInputLabels(path: string, n: number, classes?: number): Int32Array {
  const idx = idxFromFileBytes(readFileSync(path), path);
  if (idx.shape.length !== 1 || idx.shape[0] !== n)
    throw new DataFormatError(`${path}: ${idx.shape[0]} labels for ${n} samples`);
  const labels = Int32Array.from(idx.data as ArrayLike<number>);
  if (classes !== undefined)
    for (const v of labels)
      if (!(v >= 0 && v < classes))
        throw new DataFormatError(`${path}: label ${v} is outside the model's classes 0..${classes - 1}`);
  return labels;
}
