/**
 * The IDX format of (Fashion-)MNIST: a 4-byte magic (0, 0, type, rank), big-endian 32-bit
 * dimensions, then the values. Only unsigned bytes (type 0x08) occur in these files. Errors name the
 * file and what is wrong with it.
 */
import { KeelError } from '../util/errors.js';

/** A file that exists but cannot be read as what it should be. */
export class DataFormatError extends KeelError {}

/** Parsed IDX content. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/** Parses IDX bytes; `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4)
    throw new DataFormatError(`${name}: IDX file is too short (${bytes.length} bytes) to hold a header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(
      `${name}: not an IDX file (magic bytes ${bytes[0]}, ${bytes[1]}; expected 0, 0)`,
    );
  }
  if (bytes[2] !== 0x08)
    throw new DataFormatError(
      `${name}: IDX element type 0x${bytes[2].toString(16)} is not supported (expected 0x08, unsigned bytes)`,
    );
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new DataFormatError(`${name}: IDX rank ${rank} is outside 1..4`);
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    throw new DataFormatError(`${name}: IDX header is truncated (${bytes.length} of ${headerSize} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerSize + count) {
    throw new DataFormatError(
      `${name}: expected ${headerSize + count} bytes (header + ${shape.join('×')} values), got ${bytes.length} — the file is ${bytes.length < headerSize + count ? 'truncated' : 'too long'}`,
    );
  }
  return { shape, data: bytes.subarray(headerSize) };
}
