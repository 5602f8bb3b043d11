/**
 * ONNX export, verified by running the files in onnxruntime (npm onnxruntime-node, its bundled CPU
 * binary): for every exported layer type, a small seeded model in eval mode gives keel's outputs to
 * 1e-5 on random inputs with two batch sizes (the batch axis is dynamic); the initializers carry the
 * state dict's names; unsupported layers are refused by name.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx, OnnxExportError } from '../src/format/onnx.js';
import { loadOnnx, OnnxFormatError } from '../src/format/onnxRun.js';
import * as k from '../src/index.js';
import { nn, Rng } from '../src/index.js';

/** Random parameters and buffers, so no layer passes by being the identity. */
function randomize(m: nn.Module, g: Rng): nn.Module {
  const state: Record<string, k.Tensor> = {};
  for (const [name, t] of Object.entries(m.stateDict())) {
    if (name.endsWith('num_batches_tracked')) state[name] = t;
    else if (name.endsWith('running_var'))
      state[name] = k.add(k.abs(k.randn(t.shape, { generator: g })), 0.3);
    else state[name] = k.randn(t.shape, { generator: g });
  }
  m.loadStateDict(state);
  return m.eval();
}

async function agree(model: nn.Module, inputShape: number[]): Promise<void> {
  const bytes = exportOnnx(model, { inputShape });
  const session = await InferenceSession.create(bytes);
  expect(session.inputNames).toEqual(['input']);
  expect(session.outputNames).toEqual(['output']);
  for (const batch of [1, 5]) {
    const x = k.randn([batch, ...inputShape], { generator: new Rng(batch) });
    const want = model.forward(x);
    const r = await session.run({ input: new OrtTensor('float32', x.readSync() as Float32Array, x.shape) });
    const got = r.output;
    expect(got.dims).toEqual(want.shape);
    const a = got.data as Float32Array;
    const b = want.readSync();
    for (let i = 0; i < b.length; i++)
      expect(Math.abs(a[i] - b[i]), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(
        1e-5 * (1 + Math.abs(b[i])),
      );
    // keel's own ONNX reader runs the file to the same values.
    const mine = loadOnnx(bytes, 'm.onnx').run(x).readSync();
    for (let i = 0; i < b.length; i++)
      expect(Math.abs(mine[i] - b[i]), `keel's reader, element ${i}`).toBeLessThanOrEqual(
        1e-5 * (1 + Math.abs(b[i])),
      );
  }
}

const lin = (i: number, o: number) => new nn.Linear(i, o);
const cases: [string, () => nn.Module, number[]][] = [
  [
    'Linear (Gemm) and ReLU after Flatten',
    () => new nn.Sequential(new nn.Flatten(), lin(12, 8), new nn.ReLU(), lin(8, 3)),
    [3, 4],
  ],
  [
    'Linear on a 3-D input (MatMul + Add)',
    () => new nn.Sequential(lin(4, 6), new nn.Tanh(), lin(6, 2)),
    [3, 4],
  ],
  [
    'LeakyReLU, ELU and SELU',
    () =>
      new nn.Sequential(
        lin(5, 6),
        new nn.LeakyReLU(0.2),
        lin(6, 6),
        new nn.ELU(0.7),
        lin(6, 4),
        new nn.SELU(),
      ),
    [5],
  ],
  [
    'PReLU, shared and per channel',
    () => new nn.Sequential(lin(5, 6), new nn.PReLU(), lin(6, 6), new nn.PReLU(6)),
    [5],
  ],
  [
    'GELU exact and tanh, SiLU, Sigmoid',
    () =>
      new nn.Sequential(
        lin(5, 6),
        new nn.GELU(),
        lin(6, 6),
        new nn.GELU('tanh'),
        lin(6, 6),
        new nn.SiLU(),
        lin(6, 3),
        new nn.Sigmoid(),
      ),
    [5],
  ],
  [
    'Softplus (β = 1 and β = 2)',
    () => new nn.Sequential(lin(5, 6), new nn.Softplus(), lin(6, 4), new nn.Softplus(2)),
    [5],
  ],
  [
    'Softmax and LogSoftmax',
    () => new nn.Sequential(lin(5, 4), new nn.Softmax(), lin(4, 3), new nn.LogSoftmax(-1)),
    [5],
  ],
  [
    'Dropout and AlphaDropout are the identity',
    () =>
      new nn.Sequential(lin(5, 6), new nn.Dropout(0.5), new nn.ReLU(), new nn.AlphaDropout(0.2), lin(6, 2)),
    [5],
  ],
  [
    'LayerNorm, with and without affine',
    () =>
      new nn.Sequential(
        lin(5, 6),
        new nn.LayerNorm(6),
        lin(6, 4),
        new nn.LayerNorm(4, { elementwiseAffine: false }),
      ),
    [5],
  ],
  [
    'BatchNorm1d (eval mode, running statistics)',
    () => new nn.Sequential(lin(5, 6), new nn.BatchNorm1d(6), new nn.ReLU(), lin(6, 2)),
    [5],
  ],
  [
    'nested Sequential and Identity',
    () => new nn.Sequential(new nn.Sequential(lin(5, 6), new nn.ReLU()), new nn.Identity(), lin(6, 2)),
    [5],
  ],
  [
    'the MLP keel trains (nn.mlp)',
    () => nn.mlp({ inputs: 784, hidden: [32, 16], outputs: 10, dropout: 0.3, layerNorm: true }),
    [1, 28, 28],
  ],
];

describe('ONNX export runs in onnxruntime with keel outputs', () => {
  for (const [what, make, shape] of cases) {
    it(what, async () => {
      await agree(randomize(make(), new Rng(7)), shape);
    });
  }

  it('names initializers as the state dict does', async () => {
    const { onnx } = (await import('onnx-proto')).default;
    const model = randomize(
      new nn.Sequential(new nn.Flatten(), lin(4, 3), new nn.BatchNorm1d(3)),
      new Rng(1),
    );
    const decoded = onnx.ModelProto.decode(exportOnnx(model));
    expect(Number(decoded.opsetImport[0].version)).toBe(17);
    expect((decoded.graph?.initializer ?? []).map((t) => t.name).sort()).toEqual(
      ['1.bias', '1.weight', '2.bias', '2.running_mean', '2.running_var', '2.weight'].sort(),
    );
    expect(decoded.graph?.input?.[0].type?.tensorType?.shape?.dim?.[0].dimParam).toBe('batch');
  });

  it('refuses layers it cannot write, naming them and what is supported', () => {
    const m = new nn.Sequential(lin(4, 3), new nn.DropConnectLinear(3, 2));
    // DropConnectLinear is a Linear in eval mode, so it exports; a custom module does not.
    expect(() => exportOnnx(m)).not.toThrow();
    class Twice extends nn.Module {
      forward(x: k.Tensor) {
        return k.mul(x, 2);
      }
    }
    expect(() => exportOnnx(new nn.Sequential(lin(4, 3), new Twice()))).toThrow(OnnxExportError);
    expect(() => exportOnnx(new nn.Sequential(lin(4, 3), new Twice()))).toThrow(
      /exportOnnx: layer 1 \(Twice\): no ONNX form for this layer; exported layers: Sequential, Linear/,
    );
    expect(() =>
      exportOnnx(new nn.Sequential(new nn.BatchNorm1d(3, { trackRunningStats: false })), { inputShape: [3] }),
    ).toThrow(/layer 0 \(BatchNorm1d\): without running statistics/);
    expect(() => exportOnnx(new nn.Sequential(new nn.ReLU()))).toThrow(
      /inputShape must be positive integers .* pass inputShape/,
    );
  });

  it("keel's reader refuses what it cannot run, naming the file and the node", async () => {
    const { onnx } = (await import('onnx-proto')).default;
    expect(() => loadOnnx(new Uint8Array([0xff, 0xff, 0xff]), 'x.onnx')).toThrow(
      /^x\.onnx: not an ONNX model/,
    );
    const ok = onnx.ModelProto.decode(exportOnnx(new nn.Sequential(lin(3, 2), new nn.ReLU())));
    const edit = (f: (m: typeof ok) => void) => {
      const m = onnx.ModelProto.decode(onnx.ModelProto.encode(ok).finish());
      f(m);
      return onnx.ModelProto.encode(m).finish();
    };
    const node = (m: typeof ok, i: number) => (m.graph?.node ?? [])[i];
    expect(() =>
      loadOnnx(
        edit((m) => void (node(m, 0).opType = 'Conv')),
        'c.onnx',
      ),
    ).toThrow(/^c\.onnx: node 0 \('linear_0'\) is a Conv; keel runs Gemm, MatMul/);
    expect(() =>
      loadOnnx(
        edit((m) => void (node(m, 1).input = ['nowhere'])),
        'r.onnx',
      ),
    ).toThrow(/^r\.onnx: node 1 .* reads 'nowhere', which no earlier node or initializer defines/);
    expect(() =>
      loadOnnx(
        edit((m) => void ((m.graph?.initializer ?? [])[0].dims = [7, 7])),
        'd.onnx',
      ),
    ).toThrow(/^d\.onnx: initializer '0\.weight' holds 24 bytes for dims \[7,7\] \(196 expected\)/);
    expect(() =>
      loadOnnx(
        edit((m) => void (m.opsetImport = [{ domain: '', version: 9 }])),
        'o.onnx',
      ),
    ).toThrow(/opset 9 is older/);
    const model = loadOnnx(exportOnnx(new nn.Sequential(lin(3, 2))), 's.onnx');
    expect(() => model.run(k.ones([2, 5]))).toThrow(OnnxFormatError);
  });
});
