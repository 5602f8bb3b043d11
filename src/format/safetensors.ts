/**
 * The safetensors format (Hugging Face; https://github.com/huggingface/safetensors), bytes in and
 * bytes out, no platform code: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * mapping each tensor's name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to
 * the data that follows the header) plus an optional `__metadata__` string map, then the data.
 * Loading never executes anything — the reason the format exists (pickle checkpoints run code).
 *
 * Reading validates as the reference implementation does, so a corrupt or hostile file is refused
 * with a `SafetensorsError` naming the file and what is wrong, before anything is allocated beyond
 * the file's own size: the header length is at most 100 MB and inside the file; the header is UTF-8
 * JSON starting with `{`; every entry has a known dtype, a shape of non-negative integers and two
 * integer offsets; the tensors, ordered by offset, tile the data exactly (no gap, no overlap, the
 * last one ending at the end of the file); each one's byte length is its element count × dtype size.
 * F32, F64, I32, U8 and BOOL are read as they are; F16 and BF16 become float32; I64, I16, I8, U16
 * and U32 become int32 when every value fits (else an error names the tensor).
 *
 * Writing follows the reference too, so files are byte-identical to what it writes for the same
 * tensors: `__metadata__` first (its keys sorted; the reference writes them in hash order), tensors
 * ordered by dtype — the reference's dtype order, F64 before F32 before I32 before U8 before BOOL, which keeps
 * each tensor aligned — then by name, compact JSON, the header padded with spaces to a multiple of 8
 * bytes (so the data starts 8-aligned).
 */
import { fromHost } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DType, TypedArray } from '../util/dtype.js';
import { KeelError } from '../util/errors.js';

/** A safetensors file that cannot be read, or tensors that cannot be written as one. */
export class SafetensorsError extends KeelError {}

/** Tensors by name and the file's string metadata. */
export interface SafetensorsContent {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** The reference implementation's limit on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of each dtype the format names (the ones keel reads). */
const SIZES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};
type FileDType = keyof typeof SIZES;
const DTYPE_NAMES = Object.keys(SIZES).join(', ');

/** keel dtype → the format's name. */
const WRITE_NAME: Record<DType, FileDType> = {
  float32: 'F32',
  float64: 'F64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};
/** Where each keel dtype's file dtype sits in the reference's dtype order (BOOL = 0 … F64 = 12). */
const WRITE_RANK: Record<DType, number> = { float64: 12, float32: 11, int32: 9, uint8: 1, bool: 0 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Entry {
  name: string;
  dtype: FileDType;
  shape: number[];
  begin: number;
  end: number;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses safetensors bytes; `source` (a file name) is used in error messages. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContent {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${source}: ${what}`);
  };
  if (!LITTLE_ENDIAN) fail('reading safetensors needs a little-endian platform');
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES))
    fail(`the header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit (a corrupt or hostile file)`);
  const n = Number(n64);
  if (8 + n > bytes.length)
    fail(`the header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    fail(`the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('the header must be a JSON object');
  const dataLength = bytes.length - 8 - n;
  // Null-prototype maps: a file's names (e.g. '__proto__') are data, never properties of Object.
  const metadata: Record<string, string> = Object.create(null);
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info))
        fail('__metadata__ must be an object mapping strings to strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value of '${k}' must be a string, got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(readEntry(name, info, fail));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin !== at)
      fail(
        e.begin > at
          ? `tensor '${e.name}' starts at data byte ${e.begin}, but the tensors before it end at ${at} (a gap)`
          : `tensor '${e.name}' starts at data byte ${e.begin}, inside the tensor before it (overlap, ends at ${at})`,
      );
    if (e.end > dataLength)
      fail(`tensor '${e.name}' ends at data byte ${e.end}, past the end of the data (${dataLength} bytes)`);
    let count = 1;
    for (const d of e.shape) count *= d;
    const want = count * SIZES[e.dtype];
    if (want !== e.end - e.begin)
      fail(
        `tensor '${e.name}' (${e.dtype} [${e.shape.join(',')}]) needs ${want} bytes, but its offsets span ${e.end - e.begin}`,
      );
    at = e.end;
  }
  if (at !== dataLength)
    fail(`the tensors cover ${at} of the ${dataLength} data bytes (trailing bytes no tensor owns)`);
  const tensors: Record<string, Tensor> = Object.create(null);
  const data = 8 + n;
  for (const e of entries) {
    // A copy, aligned and owned by the tensor (not `slice`: on a Node Buffer it returns a view).
    const raw = new Uint8Array(e.end - e.begin);
    raw.set(bytes.subarray(data + e.begin, data + e.end));
    const [array, dtype] = decode(e, raw, fail);
    tensors[e.name] = fromHost(array, e.shape, dtype);
  }
  return { tensors, metadata };
}

function readEntry(name: string, info: unknown, fail: (what: string) => never): Entry {
  if (info === null || typeof info !== 'object' || Array.isArray(info))
    fail(`entry '${name}' must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(SIZES, dtype))
    fail(`tensor '${name}' has dtype ${JSON.stringify(dtype)}; keel reads ${DTYPE_NAMES}`);
  if (!Array.isArray(shape) || !shape.every(isIndex))
    fail(`tensor '${name}' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1])
    fail(
      `tensor '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 ≤ begin ≤ end`,
    );
  return { name, dtype: dtype as FileDType, shape: shape as number[], begin: offsets[0], end: offsets[1] };
}

/** The tensor's values as a keel array: as stored, widened to float32, or narrowed to int32. */
function decode(e: Entry, raw: Uint8Array, fail: (what: string) => never): [TypedArray, DType] {
  const buf = raw.buffer as ArrayBuffer;
  switch (e.dtype) {
    case 'F32':
      return [new Float32Array(buf), 'float32'];
    case 'F64':
      return [new Float64Array(buf), 'float64'];
    case 'I32':
      return [new Int32Array(buf), 'int32'];
    case 'U8':
      return [new Uint8Array(buf), 'uint8'];
    case 'BOOL': {
      const b = new Uint8Array(buf);
      for (let i = 0; i < b.length; i++)
        if (b[i] > 1)
          fail(`tensor '${e.name}' (BOOL) holds the byte ${b[i]} at element ${i}; booleans are 0 or 1`);
      return [b, 'bool'];
    }
    case 'F16':
      return [Float32Array.from(new Uint16Array(buf), halfToFloat), 'float32'];
    case 'BF16':
      return [Float32Array.from(new Uint16Array(buf), (h) => bfloatToFloat(h)), 'float32'];
    default:
      return [toInt32(e, buf, fail), 'int32'];
  }
}

function toInt32(e: Entry, buf: ArrayBuffer, fail: (what: string) => never): Int32Array {
  const src =
    e.dtype === 'I64'
      ? new BigInt64Array(buf)
      : e.dtype === 'I16'
        ? new Int16Array(buf)
        : e.dtype === 'I8'
          ? new Int8Array(buf)
          : e.dtype === 'U32'
            ? new Uint32Array(buf)
            : e.dtype === 'U16'
              ? new Uint16Array(buf)
              : new Uint8Array(buf);
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = Number(src[i]);
    if (v < -2147483648 || v > 2147483647)
      fail(`tensor '${e.name}' (${e.dtype}) holds ${src[i]} at element ${i}, outside keel's int32 range`);
    out[i] = v;
  }
  return out;
}

/** IEEE half → number (subnormals, ±Inf and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const bf = new Float32Array(1);
const bfBits = new Uint32Array(bf.buffer);
/** bfloat16 (the top half of a float32) → number. */
function bfloatToFloat(h: number): number {
  bfBits[0] = h << 16;
  return bf[0];
}

/**
 * Serializes tensors (by name; `__metadata__` is reserved) and string metadata to safetensors
 * bytes. Views are written as their values, row-major.
 */
export function serializeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  if (!LITTLE_ENDIAN) throw new SafetensorsError('writing safetensors needs a little-endian platform');
  for (const [k, v] of Object.entries(metadata))
    if (typeof v !== 'string')
      throw new SafetensorsError(
        `serializeSafetensors: metadata value of '${k}' must be a string, got ${typeof v}`,
      );
  if (Object.hasOwn(tensors, '__metadata__'))
    throw new SafetensorsError(
      "serializeSafetensors: '__metadata__' is reserved for the metadata and cannot name a tensor",
    );
  const names = Object.keys(tensors).sort((a, b) => {
    const d = WRITE_RANK[tensors[b].dtype] - WRITE_RANK[tensors[a].dtype];
    return d || (a < b ? -1 : a > b ? 1 : 0);
  });
  // Entries in this order, written by hand: a JS object would move integer-like names (e.g. '0') first.
  const object = (entries: [string, string][]) =>
    `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  const header: [string, string][] = [];
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length)
    header.push(['__metadata__', object(metaKeys.map((k) => [k, JSON.stringify(metadata[k])]))]);
  const payloads: Uint8Array[] = [];
  let at = 0;
  for (const name of names) {
    const t = tensors[name];
    const values = t.readSync();
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const info = { dtype: WRITE_NAME[t.dtype], shape: [...t.shape], data_offsets: [at, at + bytes.length] };
    header.push([name, JSON.stringify(info)]);
    payloads.push(bytes);
    at += bytes.length;
  }
  const json = new TextEncoder().encode(object(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const p of payloads) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
