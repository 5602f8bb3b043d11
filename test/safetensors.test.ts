/**
 * The safetensors codec: byte-exact against the reference implementation's own test vectors, round
 * trips of every keel dtype, conversions on read (F16, BF16, I64 …), and each validation rule
 * refusing a bad file with a SafetensorsError that names the file and the problem.
 */
import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/format/safetensors.js';
import * as k from '../src/index.js';

const ascii = (b: Uint8Array) => new TextDecoder().decode(b);

/** A file from a header (object or raw text) and data bytes, as a foreign writer might produce. */
function file(header: unknown, data: ArrayLike<number> = [], headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe('safetensors: writing', () => {
  it("writes the reference implementation's bytes", () => {
    // Its test vectors: one F32 [1,2,3] tensor (a 64-byte header, no padding needed) …
    const out = serializeSafetensors({ 'attn.0': k.tensor([0, 1, 2, 3, 4, 5], { shape: [1, 2, 3] }) });
    expect(new DataView(out.buffer).getBigUint64(0, true)).toBe(64n);
    expect(ascii(out.subarray(8, 72))).toBe(
      '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}',
    );
    expect([...out.subarray(72)]).toEqual([...f32bytes([0, 1, 2, 3, 4, 5])]);
    // … a shorter name padded with spaces so the data starts 8-aligned …
    const aligned = serializeSafetensors({ attn0: k.tensor([0, 1, 2, 3, 4, 5], { shape: [1, 1, 2, 3] }) });
    expect(new DataView(aligned.buffer).getBigUint64(0, true)).toBe(72n);
    expect(ascii(aligned.subarray(8, 80))).toBe(
      `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}${' '.repeat(7)}`,
    );
    // … and no tensors, with and without metadata.
    expect([...serializeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const meta = serializeSafetensors({}, { framework: 'pt' });
    expect(new DataView(meta.buffer).getBigUint64(0, true)).toBe(40n);
    expect(ascii(meta.subarray(8))).toBe(`{"__metadata__":{"framework":"pt"}}${' '.repeat(5)}`);
  });

  it('orders tensors by dtype (F64, F32, I32, BOOL) then name, metadata first with sorted keys', () => {
    const out = serializeSafetensors(
      {
        b: k.tensor([true, false]),
        z: k.tensor([1], { dtype: 'float64' }),
        '0': k.tensor([7], { dtype: 'int32' }),
        a: k.tensor([1, 2]),
        c: k.tensor([3]),
      },
      { zeta: '1', alpha: '2' },
    );
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const header = ascii(out.subarray(8, 8 + n)).trimEnd();
    const names = [...header.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
    expect(names).toEqual(['z', 'a', 'c', '0', 'b']);
    expect(header.startsWith('{"__metadata__":{"alpha":"2","zeta":"1"},')).toBe(true);
    expect(n % 8).toBe(0);
  });

  it('round-trips every keel dtype, scalars, empty tensors and views', () => {
    const t = k.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const tensors = {
      f32: k.tensor([1.5, -2, Number.POSITIVE_INFINITY, Number.NaN]),
      f64: k.tensor([Math.PI, -1e-300], { dtype: 'float64' }),
      i32: k.tensor([-2147483648, 0, 2147483647], { dtype: 'int32' }),
      bool: k.tensor([true, false, true]),
      scalar: k.tensor(3.25),
      empty: k.zeros([0, 4]),
      transposed: t.transpose(0, 1),
    };
    const back = parseSafetensors(serializeSafetensors(tensors, { epoch: '3' }), 'round.safetensors');
    expect(back.metadata).toEqual({ epoch: '3' });
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, want] of Object.entries(tensors)) {
      const got = back.tensors[name];
      expect(got.dtype).toBe(want.dtype);
      expect(got.shape).toEqual(want.shape);
      expect([...got.readSync()]).toEqual([...want.readSync()]);
    }
    expect(back.tensors.transposed.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('refuses what it cannot write', () => {
    expect(() => serializeSafetensors({ __metadata__: k.ones([1]) })).toThrow(/'__metadata__' is reserved/);
    expect(() => serializeSafetensors({}, { epoch: 3 as unknown as string })).toThrow(
      /metadata value of 'epoch' must be a string, got number/,
    );
  });
});

describe('safetensors: reading', () => {
  it('converts F16, BF16 and the integer types on read', () => {
    // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -Inf, NaN; BF16: 1, -3.5, 2^100.
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00, 0x7e00]);
    const bf16 = new Uint16Array([0x3f80, 0xc060, 0x7180]);
    const i64 = new BigInt64Array([-5n, 2147483647n]);
    const u8 = new Uint8Array([0, 255]);
    const parts = [f16, bf16, i64, u8].map((a) => new Uint8Array(a.buffer));
    const offsets: number[][] = [];
    let at = 0;
    for (const p of parts) {
      offsets.push([at, at + p.length]);
      at += p.length;
    }
    const data = new Uint8Array(at);
    for (let i = 0; i < parts.length; i++) data.set(parts[i], offsets[i][0]);
    const bytes = file(
      {
        h: { dtype: 'F16', shape: [6], data_offsets: offsets[0] },
        b: { dtype: 'BF16', shape: [3], data_offsets: offsets[1] },
        l: { dtype: 'I64', shape: [2], data_offsets: offsets[2] },
        u: { dtype: 'U8', shape: [2], data_offsets: offsets[3] },
      },
      data,
    );
    const { tensors } = parseSafetensors(bytes);
    expect(tensors.h.dtype).toBe('float32');
    expect([...tensors.h.readSync()]).toEqual([1, -2, 65504, 2 ** -24, Number.NEGATIVE_INFINITY, Number.NaN]);
    expect([...tensors.b.readSync()]).toEqual([1, -3.5, 2 ** 100]);
    expect(tensors.l.dtype).toBe('int32');
    expect([...tensors.l.readSync()]).toEqual([-5, 2147483647]);
    expect([...tensors.u.readSync()]).toEqual([0, 255]);
  });

  it('reads from a Node Buffer and from a view into a larger buffer', () => {
    const bytes = serializeSafetensors({ a: k.tensor([1, 2, 3]), n: k.tensor([5], { dtype: 'int32' }) });
    const big = new Uint8Array(bytes.length + 13);
    big.set(bytes, 13);
    for (const input of [Buffer.from(bytes), big.subarray(13)]) {
      const { tensors } = parseSafetensors(input);
      expect([...tensors.a.readSync()]).toEqual([1, 2, 3]);
      expect([...tensors.n.readSync()]).toEqual([5]);
    }
  });

  it('keeps names that are also Object properties as plain data', () => {
    const out = serializeSafetensors({ constructor: k.ones([1]), toString: k.zeros([1]) });
    const back = parseSafetensors(out);
    expect(Object.keys(back.tensors).sort()).toEqual(['constructor', 'toString']);
    // A tensor named __proto__ is an entry, not a prototype switch.
    const proto = file('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32bytes([2]));
    const parsed = parseSafetensors(proto);
    expect(Object.keys(parsed.tensors)).toEqual(['__proto__']);
    const own = Object.getOwnPropertyDescriptor(parsed.tensors, '__proto__');
    expect(own).toBeDefined();
    expect([...((own as PropertyDescriptor).value as k.Tensor).readSync()]).toEqual([2]);
  });

  const entry = (dtype: string, shape: number[], offsets: number[]) => ({
    dtype,
    shape,
    data_offsets: offsets,
  });
  const bad: [string, Uint8Array, RegExp][] = [
    [
      'too short',
      new Uint8Array(5),
      /m\.safetensors: the file is 5 bytes, too short for the 8-byte header length/,
    ],
    [
      'header too large',
      file('{}', [], 200_000_000),
      /header length 200000000 is over the 100000000-byte limit/,
    ],
    [
      'header past the end',
      file('{}', [], 50),
      /header length 50 runs past the end of the file \(10 bytes\)/,
    ],
    [
      'not UTF-8',
      (() => {
        const b = file('{"a" }');
        b[10] = 0xff;
        return b;
      })(),
      /the header is not valid UTF-8/,
    ],
    ['not an object', file('[1,2]'), /must be a JSON object starting with '\{', got "\[1,2\]"/],
    ['not JSON', file('{"a":'), /the header is not valid JSON/],
    [
      'unknown dtype',
      file({ a: entry('F8_E4M3', [1], [0, 1]) }, [0]),
      /tensor 'a' has dtype "F8_E4M3"; keel reads F64, F32/,
    ],
    ['bad shape', file({ a: entry('F32', [-1], [0, 4]) }, [0, 0, 0, 0]), /tensor 'a' has shape \[-1\]/],
    [
      'bad offsets',
      file({ a: entry('F32', [1], [4, 0]) }, [0, 0, 0, 0]),
      /tensor 'a' has data_offsets \[4,0\]/,
    ],
    [
      'gap',
      file({ a: entry('F32', [1], [4, 8]) }, new Uint8Array(8)),
      /tensor 'a' starts at data byte 4, but the tensors before it end at 0 \(a gap\)/,
    ],
    [
      'overlap',
      file({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }, new Uint8Array(8)),
      /tensor 'b' starts at data byte 4, inside the tensor before it/,
    ],
    [
      'past the data',
      file({ a: entry('F32', [2], [0, 8]) }, new Uint8Array(4)),
      /tensor 'a' ends at data byte 8, past the end of the data \(4 bytes\)/,
    ],
    [
      'size disagrees',
      file({ a: entry('F32', [3], [0, 8]) }, new Uint8Array(8)),
      /tensor 'a' \(F32 \[3\]\) needs 12 bytes, but its offsets span 8/,
    ],
    [
      'trailing bytes',
      file({ a: entry('F32', [1], [0, 4]) }, new Uint8Array(6)),
      /the tensors cover 4 of the 6 data bytes/,
    ],
    [
      'bad metadata',
      file({ __metadata__: { a: 1 } }),
      /__metadata__ value of 'a' must be a string, got number/,
    ],
    [
      'bad bool',
      file({ a: entry('BOOL', [2], [0, 2]) }, [1, 7]),
      /tensor 'a' \(BOOL\) holds the byte 7 at element 1/,
    ],
    [
      'int64 out of range',
      file({ a: entry('I64', [1], [0, 8]) }, new Uint8Array(new BigInt64Array([1n << 40n]).buffer)),
      /tensor 'a' \(I64\) holds 1099511627776 at element 0, outside keel's int32 range/,
    ],
    [
      'huge shape',
      file({ a: entry('U8', [2 ** 30, 2 ** 30, 2 ** 30], [0, 1]) }, [0]),
      /needs .* bytes, but its offsets span 1/,
    ],
  ];
  for (const [what, bytes, message] of bad) {
    it(`refuses a file with ${what}`, () => {
      let err: unknown;
      try {
        parseSafetensors(bytes, 'm.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(/^m\.safetensors: /);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('safetensors files (keel/node)', () => {
  it('saves atomically and loads back, leaving no temporary file; errors name the file', async () => {
    const { mkdtempSync, readdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadSafetensors, saveSafetensors, writeFileAtomic } = await import('../src/io/node/files.js');
    const dir = mkdtempSync(join(tmpdir(), 'keel-st-'));
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old content');
    saveSafetensors(path, { w: k.tensor([1, 2]) }, { epoch: '1' });
    const back = loadSafetensors(path);
    expect([...back.tensors.w.readSync()]).toEqual([1, 2]);
    expect(back.metadata).toEqual({ epoch: '1' });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    // A failed write leaves the target as it was and no temporary file behind.
    expect(() => writeFileAtomic(join(dir, 'missing', 'x.safetensors'), 'x')).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    writeFileSync(join(dir, 'broken.safetensors'), new Uint8Array([1, 2, 3]));
    expect(() => loadSafetensors(join(dir, 'broken.safetensors'))).toThrow(
      new RegExp(
        `^${join(dir, 'broken.safetensors').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the file is 3 bytes`,
      ),
    );
  });
});
