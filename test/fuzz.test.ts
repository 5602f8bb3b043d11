/**
 * Property-based fuzzing of the parsers that read untrusted input (fast-check, seeded) — safetensors,
 * IDX, gzipped IDX, training checkpoints (bytes and state fields), run configurations and ONNX files: random
 * bytes, valid files mutated (bytes flipped, truncated, extended), and structurally generated ones. Every case must either parse or throw the parser's KeelError subclass whose message
 * names the source — never a raw TypeError/RangeError, never a hang, never an allocation driven by
 * an untrusted size. KEEL_FUZZ_RUNS sets the cases per parser (default 10,000; `npm run fuzz` runs
 * 200,000).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError, parseIdx } from '../src/data/idx.js';
import { exportOnnx } from '../src/format/onnx.js';
import { loadOnnx, OnnxFormatError } from '../src/format/onnxRun.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/format/safetensors.js';
import * as k from '../src/index.js';
import { idxFromFileBytes } from '../src/io/node/fashionMnist.js';
import { ConfigError, parseConfig } from '../src/run/config.js';

const RUNS = Number(process.env.KEEL_FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.KEEL_FUZZ_SEED ?? 20261202);

/** Runs `parse`; true when it parsed, false when it refused as `Err` naming `source`; else throws. */
function refusesCleanly(parse: () => unknown, Err: new (...a: never[]) => Error, source: string): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (!(e instanceof Err)) throw new Error(`not a ${Err.name}: ${(e as Error)?.stack ?? String(e)}`);
    if (!e.message.startsWith(source)) throw new Error(`message does not name ${source}: ${e.message}`);
    return false;
  }
}

/** Byte-level mutations of a valid file: flips, a truncation, an extension. */
const mutated = (valid: Uint8Array) =>
  fc
    .record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 16 }),
    })
    .map(({ flips, cut, extra }) => {
      const b = new Uint8Array([...valid, ...extra]);
      for (const [at, v] of flips) b[at % b.length] = v;
      return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
    });

describe('fuzz: safetensors', () => {
  const valid = serializeSafetensors(
    {
      w: k.tensor([
        [1, 2],
        [3, 4],
      ]),
      b: k.tensor([0.5, -0.5], { dtype: 'float64' }),
      n: k.tensor([3], { dtype: 'int32' }),
      m: k.tensor([true, false]),
    },
    { epoch: '7' },
  );
  const dtypes = [
    'F32',
    'F64',
    'F16',
    'BF16',
    'I64',
    'I32',
    'I16',
    'I8',
    'U32',
    'U16',
    'U8',
    'BOOL',
    'F8_E4M3',
    'X',
  ];
  const entry = fc.record(
    {
      dtype: fc.oneof(fc.constantFrom(...dtypes), fc.anything()),
      shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 4 }), fc.anything()),
      data_offsets: fc.oneof(
        fc.tuple(fc.integer({ min: -4, max: 64 }), fc.integer({ min: -4, max: 64 })),
        fc.anything(),
      ),
    },
    { requiredKeys: [] },
  );
  const headers = fc
    .record({
      tensors: fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 5 }),
      metadata: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string(), fc.anything())), {
        nil: undefined,
      }),
      data: fc.uint8Array({ maxLength: 80 }),
    })
    .map(({ tensors, metadata, data }) => {
      const header: Record<string, unknown> = { ...tensors };
      if (metadata !== undefined) header.__metadata__ = metadata;
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return out;
    });
  // Well-formed files of every readable dtype (shape, offsets and data consistent), so the cases
  // that parse exercise the conversions too.
  const sizes: Record<string, number> = {
    F32: 4,
    F64: 8,
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
  const wellFormed = fc
    .array(
      fc.record({
        name: fc.string({ maxLength: 5 }),
        dtype: fc.constantFrom(...Object.keys(sizes)),
        shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
        seed: fc.nat(),
      }),
      { maxLength: 4 },
    )
    .map((list) => {
      const header: Record<string, unknown> = {};
      const chunks: number[] = [];
      for (const { name, dtype, shape, seed } of list) {
        const n = shape.reduce((p, d) => p * d, 1) * sizes[dtype];
        // BOOL bytes 0/1; the top byte of each I64/U32 element small, so most values fit int32.
        for (let i = 0; i < n; i++)
          chunks.push(
            dtype === 'BOOL'
              ? (seed + i) & 1
              : (seed * 31 + i * 7) & (i % sizes[dtype] === sizes[dtype] - 1 ? 0 : 255),
          );
        header[name] = { dtype, shape, data_offsets: [chunks.length - n, chunks.length] };
      }
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + chunks.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(chunks, 8 + json.length);
      return out;
    });
  const cases = fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated(valid), headers, wellFormed);

  it(`${RUNS} random, mutated and generated files: each parses (and round-trips) or is refused cleanly`, () => {
    let parsed = 0;
    fc.assert(
      fc.property(cases, (bytes) => {
        if (
          refusesCleanly(
            () => parseSafetensors(bytes, 'fuzz.safetensors'),
            SafetensorsError,
            'fuzz.safetensors',
          )
        ) {
          parsed++;
          const { tensors, metadata } = parseSafetensors(bytes, 'fuzz.safetensors');
          const again = parseSafetensors(serializeSafetensors(tensors, metadata), 'again');
          for (const [name, t] of Object.entries(tensors)) {
            const u = again.tensors[name];
            expect(u.shape).toEqual(t.shape);
            expect(Object.is(u.readSync()[0], t.readSync()[0]) || t.size === 0).toBe(true);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // The generators reach both outcomes (a fuzzer that only ever produced garbage would test less).
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });
});

/** IDX bytes: magic (0, 0, type, rank), big-endian dimensions, the body. */
function idxFile(magicType: number, dims: number[], body: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length + body.length);
  const v = new DataView(b.buffer);
  b[2] = magicType;
  b[3] = dims.length;
  for (let i = 0; i < dims.length; i++) v.setUint32(4 + 4 * i, dims[i], false);
  b.set(body, 4 + 4 * dims.length);
  return b;
}

describe('fuzz: IDX', () => {
  const idx = idxFile;
  const valid = idx(0x08, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
  const generated = fc
    .record({
      type: fc.oneof(fc.constant(0x08), fc.integer({ min: 0, max: 255 })),
      dims: fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(0xffffffff)), { maxLength: 4 }),
      body: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
      consistent: fc.boolean(),
    })
    .map(({ type, dims, body, consistent }) => {
      const n = dims.reduce((p, d) => p * d, 1);
      return idx(
        type,
        dims,
        consistent && n <= 400
          ? Array.from({ length: n }, (_, i) => body[i % Math.max(body.length, 1)] ?? 0)
          : body,
      );
    });
  const cases = fc.oneof(fc.uint8Array({ maxLength: 60 }), mutated(valid), generated);

  it(`${RUNS} random, mutated and generated IDX files: each parses or is refused cleanly`, () => {
    let parsed = 0;
    fc.assert(
      fc.property(cases, (bytes) => {
        if (refusesCleanly(() => parseIdx(bytes, 'fuzz.idx'), DataFormatError, 'fuzz.idx')) parsed++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });
});

describe('fuzz: gzipped IDX', () => {
  const valid = gzipSync(idxFile(0x08, [3, 2], [1, 2, 3, 4, 5, 6]));
  // Valid gzip around well-formed and random IDX content too, so the parser behind gunzip is reached.
  const wrapped = fc
    .record({
      dims: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      junk: fc.uint8Array({ maxLength: 40 }),
      wellFormed: fc.boolean(),
    })
    .map(
      ({ dims, junk, wellFormed }) =>
        new Uint8Array(
          gzipSync(
            wellFormed
              ? idxFile(
                  0x08,
                  dims,
                  Array.from({ length: dims.reduce((p, d) => p * d, 1) }, (_, i) => i & 255),
                )
              : junk,
          ),
        ),
    );
  const cases = fc.oneof(fc.uint8Array({ maxLength: 60 }), mutated(new Uint8Array(valid)), wrapped);

  it(`${RUNS} random and mutated .gz files: each parses or is refused cleanly`, () => {
    let parsed = 0;
    fc.assert(
      fc.property(cases, (bytes) => {
        if (
          refusesCleanly(
            () => idxFromFileBytes(bytes, 'fuzz-idx1-ubyte.gz'),
            DataFormatError,
            'fuzz-idx1-ubyte.gz',
          )
        )
          parsed++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });
});

describe('fuzz: checkpoints', () => {
  // A real checkpoint of a tiny run, then byte mutations and JSON-level mutations of its state.
  let valid: Uint8Array = new Uint8Array();
  let state: Record<string, unknown> = {};
  beforeAll(async () => {
    const g = new k.Rng(1);
    const model = new k.nn.Sequential(
      new k.nn.Linear(2, 3, { generator: g }),
      new k.nn.Linear(3, 2, { generator: g }),
    );
    const optimizer = new k.optim.Adam(model.parameters());
    const d = k.data.moons(16, 0.1, 1);
    await k.train.fit({
      model,
      optimizer,
      train: new k.data.DataLoader(new k.data.TensorDataset(d.X, d.y), {
        batchSize: 8,
        shuffle: true,
        generator: g,
      }),
      epochs: 1,
      callbacks: [k.train.earlyStopping({ monitor: 'trainLoss' })],
      checkpoint: { save: (c) => void (valid = k.train.serializeCheckpoint(c)) },
    });
    state = JSON.parse(k.parseSafetensors(valid).metadata['keel.checkpoint']);
  });
  const paths = [
    'version',
    'epochs',
    'position',
    'position.batch',
    'epoch',
    'optimizer.groups',
    'optimizer.steps',
    'generators',
    'divergence.recent',
    'callbacks',
    'history',
    'stopReason',
  ];
  const jsonMutation = fc
    .record({ path: fc.constantFrom(...paths), value: fc.anything() })
    .map(({ path, value }) => {
      const s = structuredClone(state);
      const keys = path.split('.');
      let o = s as Record<string, unknown>;
      for (const key of keys.slice(0, -1)) o = (o[key] ?? {}) as Record<string, unknown>;
      o[keys.at(-1) as string] = value;
      const { tensors, metadata } = k.parseSafetensors(valid);
      return k.serializeSafetensors(tensors, { ...metadata, 'keel.checkpoint': JSON.stringify(s) });
    });

  it(`${RUNS} mutated checkpoints (bytes and state fields): each parses or is refused cleanly`, () => {
    let parsed = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constant(0).chain(() => mutated(valid)),
          jsonMutation,
        ),
        (bytes) => {
          if (
            refusesCleanly(
              () => k.train.parseCheckpoint(bytes, 'fuzz.ckpt'),
              k.train.CheckpointError,
              'fuzz.ckpt',
            )
          )
            parsed++;
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });
});

describe('fuzz: run configurations', () => {
  const fields = fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 8 }), fc.anything()),
      seed: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.anything()),
      epochs: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.anything()),
      data: fc.oneof(
        fc.record(
          { dataset: fc.constantFrom('moons', 'xor', 'nope'), batchSize: fc.integer({ min: -1, max: 64 }) },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
      model: fc.oneof(
        fc.record(
          {
            hidden: fc.array(fc.integer({ min: -1, max: 8 }), { maxLength: 3 }),
            dropout: fc.oneof(fc.double(), fc.array(fc.double(), { maxLength: 3 })),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
      optimizer: fc.oneof(
        fc.record({ name: fc.constantFrom('sgd', 'adam', 'lion'), lr: fc.double() }, { requiredKeys: [] }),
        fc.anything(),
      ),
      checkpoint: fc.oneof(
        fc.record(
          { everyEpochs: fc.integer({ min: -1, max: 3 }), minutes: fc.double() },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  );
  const cases = fc.oneof(fields, fc.anything());

  it(`${RUNS} random configurations: each is valid or refused with a ConfigError naming the source`, () => {
    let parsed = 0;
    fc.assert(
      fc.property(cases, (raw) => {
        try {
          parseConfig(raw, 'fuzz.json');
          parsed++;
        } catch (e) {
          if (!(e instanceof ConfigError))
            throw new Error(`not a ConfigError: ${(e as Error)?.stack ?? String(e)}`);
          expect(e.message).toContain('fuzz.json');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });
});

describe('fuzz: ONNX files (keel predict reads them)', () => {
  const model = new k.nn.Sequential(
    new k.nn.Linear(3, 4),
    new k.nn.GELU(),
    new k.nn.LayerNorm(4),
    new k.nn.Linear(4, 2),
  );
  const valid = exportOnnx(model.eval());
  // Field-level edits of the decoded model (encoded again): operators, inputs, attributes, dims.
  const ops = [
    'Gemm',
    'MatMul',
    'Add',
    'Mul',
    'Erf',
    'LayerNormalization',
    'Softmax',
    'Flatten',
    'Transpose',
    'Conv',
    '',
  ];
  const structural = fc
    .record({
      node: fc.nat(),
      op: fc.option(fc.constantFrom(...ops), { nil: undefined }),
      input: fc.option(fc.array(fc.constantFrom('input', '0.weight', '1.bias', 'x', ''), { maxLength: 4 }), {
        nil: undefined,
      }),
      attr: fc.option(
        fc.tuple(fc.constantFrom('axis', 'transB', 'epsilon', 'perm'), fc.integer({ min: -4, max: 4 })),
        { nil: undefined },
      ),
      dims: fc.option(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }), { nil: undefined }),
    })
    .map(({ node, op, input, attr, dims }) => {
      const m = onnxProto.onnx.ModelProto.decode(valid);
      const nodes = m.graph?.node ?? [];
      const n = nodes[node % nodes.length];
      if (op !== undefined) n.opType = op;
      if (input !== undefined) n.input = input;
      if (attr)
        n.attribute = [{ name: attr[0], type: attr[0] === 'perm' ? 7 : 2, i: attr[1], ints: [attr[1], 0] }];
      const inits = m.graph?.initializer ?? [];
      if (dims !== undefined && inits.length) inits[node % inits.length].dims = dims;
      return onnxProto.onnx.ModelProto.encode(m).finish();
    });
  const cases = fc.oneof(fc.uint8Array({ maxLength: 80 }), mutated(valid), structural);

  it(`${RUNS} random and mutated ONNX files: each loads and runs, or is refused cleanly`, () => {
    let parsed = 0;
    const x = k.ones([2, 3]);
    fc.assert(
      fc.property(cases, (bytes) => {
        if (refusesCleanly(() => loadOnnx(bytes, 'fuzz.onnx'), OnnxFormatError, 'fuzz.onnx')) {
          parsed++;
          const m = loadOnnx(bytes, 'fuzz.onnx');
          refusesCleanly(() => m.run(x), OnnxFormatError, 'fuzz.onnx');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });
});
