/**
 * `keel predict --checkpoint runs/<name> | --onnx model.onnx --input <file or directory> [--top 3]
 * [--labels <IDX labels>] [--json]`: class predictions with probabilities (softmax of the model's
 * outputs) for every sample, as a table or JSON; with labels, the accuracy too. A checkpoint brings
 * its class names (Fashion-MNIST's for its runs); an ONNX file does not, unless its output has
 * Fashion-MNIST's ten classes.
 */
import { readFileSync } from 'node:fs';
import { noGrad } from '../../autograd/mode.js';
import { FASHION_MNIST_CLASSES } from '../../data/fashionMnist.js';
import { DataFormatError } from '../../data/idx.js';
import { loadOnnx } from '../../format/onnxRun.js';
import { idxFromFileBytes } from '../../io/node/fashionMnist.js';
import { softmax } from '../../ops/activation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../util/errors.js';
import { modelFromCheckpoint } from '../checkpointModel.js';
import { readPredictInput } from '../predictInput.js';

/** One sample's prediction. */
export interface Prediction {
  sample: string;
  predicted: string;
  probability: number;
  top: { label: string; probability: number }[];
  label?: string;
  correct?: boolean;
}

/** The predictions, and the accuracy when labels were given. */
export interface PredictResult {
  predictions: Prediction[];
  accuracy?: number;
  source: string;
}

/** Runs the model of a checkpoint or ONNX file on the input; returns the predictions. */
export function predictCommand(o: {
  checkpoint?: string;
  onnx?: string;
  input: string;
  top?: number;
  labels?: string;
}): PredictResult {
  if (Boolean(o.checkpoint) === Boolean(o.onnx))
    throw new ValueError(
      'keel predict: give the model as --checkpoint <run or file> or as --onnx <file> (one of them)',
    );
  let forward: (x: Tensor) => Tensor;
  let features: number;
  let classNames: readonly string[] | null;
  let source: string;
  if (o.checkpoint) {
    const m = modelFromCheckpoint(o.checkpoint);
    forward = (x) => m.model.forward(x);
    features = m.inputs;
    classNames = m.classNames;
    source = m.path;
  } else {
    const path = o.onnx as string;
    const m = loadOnnx(readFileSync(path), path);
    if (m.inputShape.length !== 1)
      throw new ValueError(
        `keel predict: ${path} takes inputs of shape [batch,${m.inputShape}]; it reads flat samples only`,
      );
    forward = (x) => m.run(x);
    features = m.inputShape[0];
    classNames = m.outputShape[0] === 10 ? FASHION_MNIST_CLASSES : null;
    source = path;
  }
  const { x, names } = readPredictInput(o.input, features);
  const probs = noGrad(() => softmax(forward(x), -1));
  const classes = probs.shape[1];
  const label = (i: number) => classNames?.[i] ?? `class ${i}`;
  const p = probs.readSync();
  const top = Math.min(o.top ?? 3, classes);
  let labels: ArrayLike<number> | null = null;
  if (o.labels) {
    const idx = idxFromFileBytes(readFileSync(o.labels), o.labels);
    if (idx.shape.length !== 1 || idx.shape[0] !== names.length)
      throw new DataFormatError(`${o.labels}: ${idx.shape[0]} labels for ${names.length} samples`);
    labels = idx.data;
  }
  const predictions = names.map((sample, n) => {
    const row = Array.from({ length: classes }, (_, c) => ({ c, p: p[n * classes + c] })).sort(
      (a, b) => b.p - a.p,
    );
    const pred: Prediction = {
      sample,
      predicted: label(row[0].c),
      probability: row[0].p,
      top: row.slice(0, top).map((r) => ({ label: label(r.c), probability: r.p })),
    };
    if (labels) {
      pred.label = label(labels[n]);
      pred.correct = row[0].c === labels[n];
    }
    return pred;
  });
  const result: PredictResult = { predictions, source };
  if (labels) result.accuracy = predictions.filter((q) => q.correct).length / predictions.length;
  return result;
}

/** The predictions as text lines: a table, and the accuracy when known. */
export function formatPredictions(r: PredictResult, limit = 20): string[] {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const rows = r.predictions.slice(0, limit).map((q) => [
    q.sample,
    q.predicted,
    pct(q.probability),
    q.top
      .slice(1)
      .map((t) => `${t.label} ${pct(t.probability)}`)
      .join(', '),
    q.label === undefined ? '' : q.correct ? `✓ ${q.label}` : `✗ ${q.label}`,
  ]);
  const head = ['sample', 'predicted', 'p', 'next', r.accuracy === undefined ? '' : 'label'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  if (r.predictions.length > limit) out.push(`… ${r.predictions.length - limit} more (--json prints all)`);
  if (r.accuracy !== undefined) out.push(`accuracy ${pct(r.accuracy)} on ${r.predictions.length} samples`);
  return out;
}
