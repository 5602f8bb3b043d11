/**
 * ONNX export of the models keel builds: a `Sequential` (nested ones too) of Linear, Flatten,
 * Identity, the activations (ReLU, LeakyReLU, PReLU, ELU, SELU, GELU exact or tanh, SiLU, Sigmoid,
 * Tanh, Softplus, Softmax, LogSoftmax), Dropout/AlphaDropout/GaussianNoise (identity, as in eval mode), LayerNorm
 * and BatchNorm1d with running statistics (eval mode). The file is an ONNX `ModelProto` encoded with
 * the ONNX schema from npm `onnx-proto` (protobufjs), opset 17, IR version 8, with a dynamic batch
 * dimension named `batch`; initializers carry the state dict's names (`1.weight`), so the file reads
 * like the PyTorch export of the same network. Ops ONNX lacks at opset 17 are composed from ones it
 * has (GELU from Erf or Tanh, SiLU as x·Sigmoid(x), Softplus with β ≠ 1 by scaling). Anything else is
 * refused with an `OnnxExportError` naming the layer and what is supported.
 */
import onnxProto from 'onnx-proto';
import { Sequential } from '../nn/layers/containers.js';
import { Linear } from '../nn/layers/linear.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { KeelError } from '../util/errors.js';

const { onnx } = onnxProto;

/** A model or layer that cannot be written as ONNX. */
export class OnnxExportError extends KeelError {}

/** Options of `exportOnnx`. */
export interface OnnxExportOptions {
  /** The shape of one input sample, without the batch axis (default: [inFeatures] of the first Linear). */
  inputShape?: readonly number[];
  /** The graph's name (default 'keel'). */
  name?: string;
  /** Producer version recorded in the file. */
  producerVersion?: string;
}

/** The opset the exporter writes. */
export const ONNX_OPSET = 17;

const SUPPORTED =
  'Sequential, Linear, Flatten, Identity, ReLU, LeakyReLU, PReLU, ELU, SELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax, Dropout, AlphaDropout, GaussianNoise, LayerNorm, BatchNorm1d';

type Attr = number | number[] | string;

/** Nodes and initializers under construction, with fresh value names. */
class Graph {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private count = 0;

  constructor(readonly elemType: number) {}

  fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  /** An initializer from a tensor's values (row-major), with `dims` (default: its shape). */
  tensor(name: string, t: Tensor, dims: readonly number[] = t.shape): string {
    return this.initializer(name, t.readSync(), dims);
  }

  /** A constant initializer of `values` with `dims`. */
  constant(prefix: string, values: number[], dims: readonly number[] = []): string {
    return this.initializer(this.fresh(prefix), values, dims);
  }

  /** Adds an initializer of the graph's element type; returns its name. */
  private initializer(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    const data =
      this.elemType === onnx.TensorProto.DataType.DOUBLE
        ? Float64Array.from(values)
        : Float32Array.from(values);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [...dims],
        dataType: this.elemType,
        rawData: new Uint8Array(data.buffer),
      }),
    );
    return name;
  }

  /** Adds `op(inputs)` and returns its output's name. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, hint = op.toLowerCase()): string {
    const output = this.fresh(hint);
    const attribute = Object.entries(attrs).map(([name, v]) =>
      typeof v === 'string'
        ? onnx.AttributeProto.create({
            name,
            type: onnx.AttributeProto.AttributeType.STRING,
            s: new TextEncoder().encode(v),
          })
        : Array.isArray(v)
          ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
          : Number.isInteger(v) && !FLOAT_ATTRS.has(name)
            ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v })
            : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v }),
    );
    this.nodes.push(
      onnx.NodeProto.create({ opType: op, input: inputs, output: [output], name: output, attribute }),
    );
    return output;
  }
}

/** Attributes that are floats even when their value is a whole number (alpha = 1). */
const FLOAT_ATTRS = new Set(['alpha', 'gamma', 'epsilon', 'momentum']);

/** What the running value is: its name and shape without the batch axis. */
interface Value {
  name: string;
  shape: number[];
}

/** The state dict's name of a layer's tensor (`3.weight`; `weight` for a model that is one layer). */
const key = (p: string, name: string) => (p ? `${p}.${name}` : name);

function args(m: Module): unknown[] {
  return ((m as unknown as { args?: unknown[] }).args ?? []) as unknown[];
}

/** Emits one layer (path `p`, e.g. '3') on `x`; returns the new value. */
function layer(g: Graph, m: Module, p: string, x: Value): Value {
  const kind = m.constructor.name;
  const at = (what: string) => new OnnxExportError(`exportOnnx: layer ${p} (${kind}): ${what}`);
  if (m instanceof Sequential) {
    let v = x;
    for (const [name, child] of m.namedChildren()) v = layer(g, child, p ? `${p}.${name}` : name, v);
    return v;
  }
  if (m instanceof Linear) {
    const last = x.shape.at(-1);
    if (last !== m.inFeatures)
      throw at(`expects ${m.inFeatures} input features, the value has shape [batch,${x.shape}]`);
    const w = g.tensor(key(p, 'weight'), m.weight);
    const b = m.bias ? g.tensor(key(p, 'bias'), m.bias) : null;
    const shape = [...x.shape.slice(0, -1), m.outFeatures];
    if (x.shape.length === 1)
      return { name: g.node('Gemm', b ? [x.name, w, b] : [x.name, w], { transB: 1 }, 'linear'), shape };
    const wt = g.node('Transpose', [w], { perm: [1, 0] });
    const y = g.node('MatMul', [x.name, wt]);
    return { name: b ? g.node('Add', [y, b], {}, 'linear') : y, shape };
  }
  switch (kind) {
    case 'Identity':
    case 'Dropout':
    case 'AlphaDropout':
    case 'GaussianNoise':
      return x; // the identity in eval mode
    case 'Flatten': {
      const f = m as unknown as { startAxis: number; endAxis: number };
      if (f.startAxis !== 1 || (f.endAxis !== -1 && f.endAxis !== x.shape.length))
        throw at(`only Flatten(1, -1) is exported (got ${f.startAxis}, ${f.endAxis})`);
      return { name: g.node('Flatten', [x.name], { axis: 1 }), shape: [x.shape.reduce((a, d) => a * d, 1)] };
    }
    case 'ReLU':
      return { name: g.node('Relu', [x.name]), shape: x.shape };
    case 'Sigmoid':
      return { name: g.node('Sigmoid', [x.name]), shape: x.shape };
    case 'Tanh':
      return { name: g.node('Tanh', [x.name]), shape: x.shape };
    case 'LeakyReLU':
      return {
        name: g.node('LeakyRelu', [x.name], { alpha: (args(m)[0] as number | undefined) ?? 0.01 }),
        shape: x.shape,
      };
    case 'ELU':
      return {
        name: g.node('Elu', [x.name], { alpha: (args(m)[0] as number | undefined) ?? 1 }),
        shape: x.shape,
      };
    case 'SELU':
      return {
        name: g.node('Selu', [x.name], { alpha: 1.6732632423543772, gamma: 1.0507009873554805 }),
        shape: x.shape,
      };
    case 'PReLU': {
      const w = (m as unknown as { weight: Tensor }).weight;
      // One slope per channel (axis 1 of the input): shaped [C, 1, …] so it broadcasts there.
      const dims = w.size > 1 ? [w.size, ...x.shape.slice(1).map(() => 1)] : [1];
      return { name: g.node('PRelu', [x.name, g.tensor(key(p, 'weight'), w, dims)]), shape: x.shape };
    }
    case 'SiLU':
      return { name: g.node('Mul', [x.name, g.node('Sigmoid', [x.name])], {}, 'silu'), shape: x.shape };
    case 'GELU': {
      const approx = (args(m)[0] as string | undefined) ?? 'none';
      const half = g.node('Mul', [x.name, g.constant('half', [0.5])]);
      if (approx === 'none') {
        // ½x(1 + erf(x/√2))
        const e = g.node('Erf', [g.node('Mul', [x.name, g.constant('rsqrt2', [Math.SQRT1_2])])]);
        return {
          name: g.node('Mul', [half, g.node('Add', [e, g.constant('one', [1])])], {}, 'gelu'),
          shape: x.shape,
        };
      }
      // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      const x3 = g.node('Mul', [g.node('Mul', [x.name, x.name]), x.name]);
      const inner = g.node('Add', [x.name, g.node('Mul', [x3, g.constant('c', [0.044715])])]);
      const t = g.node('Tanh', [g.node('Mul', [inner, g.constant('k', [Math.sqrt(2 / Math.PI)])])]);
      return {
        name: g.node('Mul', [half, g.node('Add', [t, g.constant('one', [1])])], {}, 'gelu'),
        shape: x.shape,
      };
    }
    case 'Softplus': {
      const beta = (args(m)[0] as number | undefined) ?? 1;
      if (beta === 1) return { name: g.node('Softplus', [x.name]), shape: x.shape };
      const sp = g.node('Softplus', [g.node('Mul', [x.name, g.constant('beta', [beta])])]);
      return { name: g.node('Div', [sp, g.constant('beta', [beta])], {}, 'softplus'), shape: x.shape };
    }
    case 'Softmax':
    case 'LogSoftmax':
      return {
        name: g.node(kind, [x.name], { axis: (args(m)[0] as number | undefined) ?? -1 }),
        shape: x.shape,
      };
    case 'LayerNorm': {
      const ln = m as unknown as {
        normalizedShape: number[];
        eps: number;
        weight: Tensor | null;
        bias: Tensor | null;
      };
      const n = ln.normalizedShape.length;
      const size = ln.normalizedShape.reduce((a, d) => a * d, 1);
      const scale = ln.weight
        ? g.tensor(key(p, 'weight'), ln.weight)
        : g.constant(key(p, 'weight'), new Array(size).fill(1), ln.normalizedShape);
      const inputs = [x.name, scale, ...(ln.bias ? [g.tensor(key(p, 'bias'), ln.bias)] : [])];
      return { name: g.node('LayerNormalization', inputs, { axis: -n, epsilon: ln.eps }), shape: x.shape };
    }
    case 'BatchNorm1d': {
      const bn = m as unknown as {
        numFeatures: number;
        eps: number;
        weight: Tensor | null;
        bias: Tensor | null;
      };
      const state = m.stateDict();
      if (!state.running_mean)
        throw at('without running statistics (trackRunningStats: false) it has no eval-mode form to export');
      const c = bn.numFeatures;
      const scale = bn.weight
        ? g.tensor(key(p, 'weight'), bn.weight)
        : g.constant(key(p, 'weight'), new Array(c).fill(1), [c]);
      const shift = bn.bias
        ? g.tensor(key(p, 'bias'), bn.bias)
        : g.constant(key(p, 'bias'), new Array(c).fill(0), [c]);
      const mean = g.tensor(key(p, 'running_mean'), state.running_mean);
      const variance = g.tensor(key(p, 'running_var'), state.running_var);
      return {
        name: g.node(
          'BatchNormalization',
          [x.name, scale, shift, mean, variance],
          { epsilon: bn.eps },
          'batchnorm',
        ),
        shape: x.shape,
      };
    }
    default:
      throw at(`no ONNX form for this layer; exported layers: ${SUPPORTED}`);
  }
}

function firstLinear(m: Module): Linear | null {
  if (m instanceof Linear) return m;
  for (const [, c] of m.namedChildren()) {
    const l = firstLinear(c);
    if (l) return l;
  }
  return null;
}

/** Encodes `model` (in eval-mode form) as an ONNX model file. */
export function exportOnnx(model: Module, opts: OnnxExportOptions = {}): Uint8Array {
  const params = model.parameters();
  const dtypes = new Set(params.map((t) => t.dtype));
  if (dtypes.size > 1)
    throw new OnnxExportError(
      `exportOnnx: parameters mix dtypes (${[...dtypes].join(', ')}); cast the model to one`,
    );
  const double = dtypes.has('float64');
  const elemType = double ? onnx.TensorProto.DataType.DOUBLE : onnx.TensorProto.DataType.FLOAT;
  const inputShape = opts.inputShape ? [...opts.inputShape] : [firstLinear(model)?.inFeatures ?? Number.NaN];
  if (!inputShape.every((d) => Number.isInteger(d) && d > 0))
    throw new OnnxExportError(
      `exportOnnx: inputShape must be positive integers (one sample, without the batch axis), got [${inputShape}]${opts.inputShape ? '' : ' (no Linear layer to infer it from: pass inputShape)'}`,
    );
  const g = new Graph(elemType);
  const out = layer(g, model, '', { name: 'input', shape: inputShape });
  // The graph's output is named 'output' (an Identity when the last layer produced another name).
  const output = out.name === 'input' ? g.node('Identity', ['input']) : out.name;
  g.nodes.push(
    onnx.NodeProto.create({ opType: 'Identity', input: [output], output: ['output'], name: 'output' }),
  );
  const valueInfo = (name: string, shape: number[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType,
          shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] },
        },
      },
    });
  const modelProto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'keel',
    producerVersion: opts.producerVersion ?? '',
    graph: {
      name: opts.name ?? 'keel',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', inputShape)],
      output: [valueInfo('output', out.shape)],
    },
  });
  return onnx.ModelProto.encode(modelProto).finish();
}
