/**
 * The wire format in which `keel lab` serves a Fashion-MNIST subset to the page (GET
 * /data/fashion-mnist.bin?train=N&test=M): a 16-byte header — the ASCII magic "KLFM" and three
 * little-endian uint32: training images, test images, pixels per image — then the training pixels
 * (uint8, row-major), the training labels (uint8), the test pixels and the test labels. Raw bytes,
 * 5 MB for 6,000 images: no parsing on the page beyond views.
 */
import { fromHost } from '../tensor/create.js';
import { type ImageSet, pixelImageSet } from './fashionMnist.js';
import { DataFormatError } from './idx.js';

const MAGIC = 0x4d464c4b; // "KLFM" read as a little-endian uint32

/** Packs images and labels (uint8 each) into the wire format. */
export function packFashion(
  train: { pixels: Uint8Array; labels: Uint8Array },
  test: { pixels: Uint8Array; labels: Uint8Array },
  pixels: number,
): Uint8Array {
  const nTrain = train.labels.length;
  const nTest = test.labels.length;
  const out = new Uint8Array(16 + (nTrain + nTest) * (pixels + 1));
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, nTrain, true);
  v.setUint32(8, nTest, true);
  v.setUint32(12, pixels, true);
  let at = 16;
  for (const part of [
    train.pixels.subarray(0, nTrain * pixels),
    train.labels,
    test.pixels.subarray(0, nTest * pixels),
    test.labels,
  ]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The raw uint8 parts of the wire format. */
export interface FashionWire {
  pixels: number;
  train: { pixels: Uint8Array; labels: Uint8Array };
  test: { pixels: Uint8Array; labels: Uint8Array };
}

/** Reads the wire format (views into `bytes`, no copies); a malformed body is a DataFormatError. */
export function unpackFashion(bytes: Uint8Array): FashionWire {
  if (bytes.length < 16)
    throw new DataFormatError(`Fashion-MNIST subset: ${bytes.length} bytes is too short`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC)
    throw new DataFormatError('Fashion-MNIST subset: not keel lab data (bad magic)');
  const nTrain = v.getUint32(4, true);
  const nTest = v.getUint32(8, true);
  const pixels = v.getUint32(12, true);
  if (bytes.length !== 16 + (nTrain + nTest) * (pixels + 1))
    throw new DataFormatError(
      `Fashion-MNIST subset: ${bytes.length} bytes, expected ${16 + (nTrain + nTest) * (pixels + 1)}`,
    );
  let at = 16;
  const take = (n: number) => {
    const s = bytes.subarray(at, at + n);
    at += n;
    return s;
  };
  const train = { pixels: take(nTrain * pixels), labels: take(nTrain) };
  const test = { pixels: take(nTest * pixels), labels: take(nTest) };
  return { pixels, train, test };
}

/** Image sets (uint8 pixels; images pixel / 255, as keel reads Fashion-MNIST everywhere) from the wire parts. */
export function wireImageSets(w: FashionWire): { train: ImageSet; test: ImageSet } {
  const set = (p: { pixels: Uint8Array; labels: Uint8Array }): ImageSet =>
    pixelImageSet(
      fromHost(p.pixels.slice(), [p.labels.length, w.pixels], 'uint8'),
      fromHost(Int32Array.from(p.labels), [p.labels.length], 'int32'),
    );
  return { train: set(w.train), test: set(w.test) };
}
