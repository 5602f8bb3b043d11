/**
 * Running ONNX files in keel: `loadOnnx` decodes a `ModelProto` (npm `onnx-proto`) and evaluates
 * its graph with keel's ops, node by node in the file's (topological) order, for the operators
 * keel's exporter writes — Gemm, MatMul, Add, Sub, Mul, Div, Transpose, Flatten, Identity, Dropout,
 * Relu, LeakyRelu, PRelu, Elu, Selu, Erf, Tanh, Sigmoid, Softplus, Softmax, LogSoftmax,
 * LayerNormalization, BatchNormalization — on float32/float64 tensors. So `keel predict` takes an
 * ONNX file as well as a checkpoint. A file that cannot be decoded, uses another operator, or
 * refers to values that do not exist is refused with an `OnnxFormatError` naming the file and the
 * node; initializers whose data does not match their dims are refused before anything is computed.
 */
import onnxProto from 'onnx-proto';
import { logSoftmax, softmax } from '../ops/activation.js';
import * as ew from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { mean, variance } from '../ops/reduce.js';
import { permute, reshape } from '../ops/shape.js';
import { fromHost } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { KeelError } from '../util/errors.js';

const { onnx } = onnxProto;
// Decoded messages have every repeated field as an array and every scalar set (to its default),
// so the decoder's interface types are narrowed to the message classes.
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type GraphProto = InstanceType<typeof onnx.GraphProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;
type AttributeProto = InstanceType<typeof onnx.AttributeProto>;

/** An ONNX file keel cannot read or run. */
export class OnnxFormatError extends KeelError {}

/** A decoded model: its input and output (shape without the batch axis) and a function running it. */
export interface OnnxModel {
  inputName: string;
  outputName: string;
  inputShape: number[];
  outputShape: number[];
  opset: number;
  run(x: Tensor): Tensor;
}

const OPS = [
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Transpose',
  'Flatten',
  'Identity',
  'Dropout',
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Erf',
  'Tanh',
  'Sigmoid',
  'Softplus',
  'Softmax',
  'LogSoftmax',
  'LayerNormalization',
  'BatchNormalization',
];

const num = (v: unknown) => (typeof v === 'number' ? v : Number(v as { toString(): string }));

/** Decodes and checks an ONNX file; `source` (a file name) heads every error. */
export function loadOnnx(bytes: Uint8Array, source = 'model.onnx'): OnnxModel {
  const fail = (what: string): never => {
    throw new OnnxFormatError(`${source}: ${what}`);
  };
  let model: InstanceType<typeof onnx.ModelProto> | undefined;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    fail(`not an ONNX model (${(e as Error).message})`);
  }
  const m = model as InstanceType<typeof onnx.ModelProto>;
  const graph = (m.graph ?? fail('the model has no graph')) as GraphProto;
  const initializers = graph.initializer as TensorProto[];
  const graphInputs = graph.input as ValueInfoProto[];
  const graphOutputs = graph.output as ValueInfoProto[];
  const nodes = graph.node as NodeProto[];
  const opset = num(m.opsetImport.find((o) => !o.domain)?.version ?? 0);
  if (!(opset >= 13)) fail(`opset ${opset} is older than keel reads (13 and newer)`);
  const values = new Map<string, Tensor>();
  for (const t of initializers) values.set(t.name, initializer(t, fail));
  const inputs = graphInputs.filter((i) => !values.has(i.name));
  if (inputs.length !== 1) fail(`keel runs models with one input, this one has ${inputs.length}`);
  if (graph.output.length !== 1)
    fail(`keel runs models with one output, this one has ${graph.output.length}`);
  const dims = (v: ValueInfoProto, what: string) => {
    const d = v.type?.tensorType?.shape?.dim ?? fail(`the ${what} '${v.name}' has no shape`);
    return d.slice(1).map((x) => {
      const n = num(x.dimValue ?? 0);
      if (!(Number.isSafeInteger(n) && n > 0))
        fail(`the ${what} '${v.name}' has a non-positive or symbolic dimension after the batch axis`);
      return n;
    });
  };
  const input = inputs[0];
  const inputShape = dims(input, 'input');
  const outputShape = dims(graphOutputs[0], 'output');
  const known = new Set([...values.keys(), input.name]);
  for (const [i, node] of nodes.entries()) {
    if (!OPS.includes(node.opType))
      fail(`node ${i} ('${node.name}') is a ${node.opType}; keel runs ${OPS.join(', ')}`);
    for (const name of node.input)
      if (name && !known.has(name))
        fail(
          `node ${i} ('${node.name}', ${node.opType}) reads '${name}', which no earlier node or initializer defines`,
        );
    if (node.output.length < 1) fail(`node ${i} ('${node.name}') has no output`);
    known.add(node.output[0]);
  }
  const outputName = graphOutputs[0].name;
  if (!known.has(outputName)) fail(`no node produces the output '${outputName}'`);
  return {
    inputName: input.name,
    outputName,
    inputShape,
    outputShape,
    opset,
    run(x: Tensor): Tensor {
      const env = new Map(values);
      env.set(input.name, x);
      for (const [i, node] of nodes.entries()) {
        try {
          env.set(
            node.output[0],
            evaluate(
              node,
              node.input.map((n) => (n ? (env.get(n) as Tensor) : null)),
            ),
          );
        } catch (e) {
          if (e instanceof OnnxFormatError)
            throw new OnnxFormatError(`${source}: node ${i} ('${node.name}', ${node.opType}): ${e.message}`);
          throw new OnnxFormatError(
            `${source}: node ${i} ('${node.name}', ${node.opType}) failed on an input of shape [${x.shape}]: ${(e as Error).message}`,
          );
        }
      }
      return env.get(outputName) as Tensor;
    },
  };
}

function initializer(t: TensorProto, fail: (what: string) => never): Tensor {
  const dims = t.dims.map(num);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0))
    fail(`initializer '${t.name}' has dims [${dims}]`);
  const count = dims.reduce((a, d) => a * d, 1);
  const F = onnx.TensorProto.DataType;
  const double = t.dataType === F.DOUBLE;
  if (t.dataType !== F.FLOAT && !double)
    fail(`initializer '${t.name}' has data type ${t.dataType}; keel reads FLOAT and DOUBLE`);
  const size = double ? 8 : 4;
  let data: Float32Array | Float64Array;
  if (t.rawData?.length) {
    if (t.rawData.length !== count * size)
      fail(
        `initializer '${t.name}' holds ${t.rawData.length} bytes for dims [${dims}] (${count * size} expected)`,
      );
    const copy = new Uint8Array(t.rawData); // aligned, owned
    data = double ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
  } else {
    const list = double ? t.doubleData : t.floatData;
    if (list.length !== count) fail(`initializer '${t.name}' holds ${list.length} values for dims [${dims}]`);
    data = double ? Float64Array.from(list) : Float32Array.from(list);
  }
  return fromHost(data, dims, double ? 'float64' : 'float32');
}

function attr(node: NodeProto, name: string, fallback: number): number {
  const a = (node.attribute as AttributeProto[]).find((x) => x.name === name);
  if (!a) return fallback;
  return a.type === onnx.AttributeProto.AttributeType.FLOAT ? a.f : num(a.i);
}

function ints(node: NodeProto, name: string): number[] | null {
  const a = (node.attribute as AttributeProto[]).find((x) => x.name === name);
  return a ? a.ints.map(num) : null;
}

function evaluate(node: NodeProto, inputs: (Tensor | null)[]): Tensor {
  const need = (i: number): Tensor =>
    inputs[i] ??
    (() => {
      throw new OnnxFormatError(`input ${i} is missing`);
    })();
  const x = need(0);
  switch (node.opType) {
    case 'Identity':
    case 'Dropout':
      return x;
    case 'Relu':
      return ew.relu(x);
    case 'Sigmoid':
      return ew.sigmoid(x);
    case 'Tanh':
      return ew.tanh(x);
    case 'Erf':
      return ew.erf(x);
    case 'Add':
      return ew.add(x, need(1));
    case 'Sub':
      return ew.sub(x, need(1));
    case 'Mul':
      return ew.mul(x, need(1));
    case 'Div':
      return ew.div(x, need(1));
    case 'MatMul':
      return matmul(x, need(1));
    case 'Gemm': {
      const a = attr(node, 'transA', 0) ? permute(x, [1, 0]) : x;
      const b = attr(node, 'transB', 0) ? permute(need(1), [1, 0]) : need(1);
      let y = ew.mul(matmul(a, b), attr(node, 'alpha', 1));
      if (inputs[2]) y = ew.add(y, ew.mul(inputs[2], attr(node, 'beta', 1)));
      return y;
    }
    case 'Transpose': {
      const perm = ints(node, 'perm') ?? [...x.shape.keys()].reverse();
      return permute(x, perm);
    }
    case 'Flatten': {
      let axis = attr(node, 'axis', 1);
      if (axis < 0) axis += x.ndim;
      const lead = x.shape.slice(0, axis).reduce((a, d) => a * d, 1);
      return reshape(x, [lead, x.size / Math.max(lead, 1)]);
    }
    case 'LeakyRelu': {
      const a = attr(node, 'alpha', 0.01);
      return ew.where(ew.gt(x, 0), x, ew.mul(x, a));
    }
    case 'PRelu':
      return ew.where(ew.gt(x, 0), x, ew.mul(x, need(1)));
    case 'Elu': {
      const a = attr(node, 'alpha', 1);
      return ew.where(ew.gt(x, 0), x, ew.mul(ew.sub(ew.exp(ew.minimum(x, 0)), 1), a));
    }
    case 'Selu': {
      const a = attr(node, 'alpha', 1.6732632423543772);
      const g = attr(node, 'gamma', 1.0507009873554805);
      return ew.mul(ew.where(ew.gt(x, 0), x, ew.mul(ew.sub(ew.exp(ew.minimum(x, 0)), 1), a)), g);
    }
    case 'Softplus':
      // log(1 + eˣ), computed stably as max(x, 0) + log(1 + e^(−|x|))
      return ew.add(ew.maximum(x, 0), ew.log(ew.add(ew.exp(ew.neg(ew.abs(x))), 1)));
    case 'Softmax':
      return softmax(x, attr(node, 'axis', -1));
    case 'LogSoftmax':
      return logSoftmax(x, attr(node, 'axis', -1));
    case 'LayerNormalization': {
      let axis = attr(node, 'axis', -1);
      if (axis < 0) axis += x.ndim;
      const axes = [...x.shape.keys()].slice(axis);
      const mu = mean(x, axes, true);
      const v = variance(x, axes, { correction: 0, keepdim: true });
      let y = ew.div(ew.sub(x, mu), ew.sqrt(ew.add(v, attr(node, 'epsilon', 1e-5))));
      y = ew.mul(y, need(1));
      return inputs[2] ? ew.add(y, inputs[2]) : y;
    }
    case 'BatchNormalization': {
      // Inference form: per channel (axis 1), (x − mean)/√(var + ε)·scale + B.
      const shape = [1, x.shape[1], ...x.shape.slice(2).map(() => 1)];
      const [scale, b, mu, v] = [need(1), need(2), need(3), need(4)].map((t) => reshape(t, shape));
      return ew.add(ew.mul(ew.div(ew.sub(x, mu), ew.sqrt(ew.add(v, attr(node, 'epsilon', 1e-5)))), scale), b);
    }
    default:
      throw new OnnxFormatError(`operator ${node.opType} is not supported`);
  }
}
