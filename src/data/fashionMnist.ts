/**
 * Fashion-MNIST facts shared by every platform: class names, file names, the SHA-256 of each
 * decompressed file, and turning IDX arrays into tensors (pixels as stored, uint8 [N, 784]; images
 * as float32 in [0, 1], [N, 784], made from the pixels when first asked for; labels as int32 [N]).
 * Finding and reading the files is in io/node.
 */
import { filledResident, fromHost } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { ImageDataset, TensorDataset } from './dataset.js';
import { DataFormatError, type IdxArray } from './idx.js';

/** The ten classes, by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Which part of the data set. */
export type Split = 'train' | 'test';

/** The files of each split, with the SHA-256 and size of their decompressed content. */
export const FASHION_MNIST_FILES: Record<Split, { images: FileInfo; labels: FileInfo; count: number }> = {
  train: {
    images: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
      bytes: 47040016,
    },
    labels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
      bytes: 60008,
    },
    count: 60000,
  },
  test: {
    images: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
      bytes: 7840016,
    },
    labels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
      bytes: 10008,
    },
    count: 10000,
  },
};

/** One data file. */
export interface FileInfo {
  name: string;
  /** SHA-256 of the decompressed IDX content (gzip wrappers differ between mirrors). */
  sha256: string;
  bytes: number;
}

/** Images [N, 784] float32 in [0, 1], labels [N] int32, and the pixels the images were made from. */
export interface ImageSet {
  /** float32 pixel / 255 (an image set read from the files makes them on first use, then keeps them). */
  images: Tensor;
  labels: Tensor;
  /**
   * The pixels as stored, uint8 [N, 784], when the set has them: what training and evaluation
   * gather batches from (`ImageDataset`: converted to [0, 1] as gathered, in a quarter of the memory).
   */
  pixels?: Tensor;
}

/** The data set of an image set: batches gathered from its pixels where it has them (ImageDataset). */
export function imageDataset(s: ImageSet): TensorDataset {
  return s.pixels ? new ImageDataset(s.pixels, s.labels) : new TensorDataset(s.images, s.labels);
}

/**
 * An image set over uint8 `pixels` [N, P] (and int32 `labels`): its float32 `images` are converted
 * from the pixels when first read (into the kernels' memory, where compiled plans read data in
 * place) and kept — a run that only trains on the pixels never pays for them.
 */
export function pixelImageSet(pixels: Tensor, labels: Tensor): ImageSet {
  let images: Tensor | null = null;
  return {
    pixels,
    labels,
    get images(): Tensor {
      images ??= filledResident(pixels.shape, 'float32', (a) => {
        const src = pixels.readSync();
        for (let i = 0; i < a.length; i++) a[i] = src[i] / 255;
      });
      return images;
    },
  };
}

/** Builds tensors from parsed IDX arrays, checking shapes and label range. */
export function toImageSet(
  images: IdxArray,
  labels: IdxArray,
  names: [string, string],
  limit?: number,
): ImageSet {
  if (images.shape.length !== 3)
    throw new DataFormatError(`${names[0]}: expected 3-D images, got shape [${images.shape}]`);
  if (labels.shape.length !== 1)
    throw new DataFormatError(`${names[1]}: expected 1-D labels, got shape [${labels.shape}]`);
  if (images.shape[0] !== labels.shape[0]) {
    throw new DataFormatError(
      `${names[0]} has ${images.shape[0]} images but ${names[1]} has ${labels.shape[0]} labels`,
    );
  }
  const n = Math.min(images.shape[0], limit ?? Number.POSITIVE_INFINITY);
  const pixels = images.shape[1] * images.shape[2];
  // The bytes go straight into the kernels' memory where the backend has one (a compiled step
  // gathers its batches there); the float32 images are made only if something asks for them.
  const x = filledResident([n, pixels], 'uint8', (a) => {
    a.set(images.data.subarray(0, a.length));
  });
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (v > 9) throw new DataFormatError(`${names[1]}: label ${v} at position ${i} is outside 0..9`);
    y[i] = v;
  }
  return pixelImageSet(x, fromHost(y, [n], 'int32'));
}
