/**
 * Predictions of a trained model (`keel predict --checkpoint runs/<name> | --onnx model.onnx --input
 * <file or directory> [--top 3] [--labels <IDX labels>]`): class predictions with probabilities (softmax of the model's
 * outputs) for every sample, as a table or JSON; with labels, the accuracy too. A checkpoint brings
 * its class names (Fashion-MNIST's for its runs); an ONNX file does not, unless its output has
 * Fashion-MNIST's ten classes.
 */
import { readFileSync } from 'node:fs';
import { noGrad } from '../../autograd/mode.js';
import { FASHION_MNIST_CLASSES } from '../../data/fashionMnist.js';
import { loadOnnx } from '../../format/onnxRun.js';
import { softmax } from '../../ops/activation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../util/errors.js';
import { loadCheckpointModel } from './checkpointModel.js';
import { readInputLabels, readPredictInput } from './predictInput.js';

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
export async function predict(o: {
  checkpoint?: string;
  onnx?: string;
  input: string;
  top?: number;
  labels?: string;
}): Promise<PredictResult> {
  if (Boolean(o.checkpoint) === Boolean(o.onnx))
    throw new ValueError(
      'keel predict: give the model as --checkpoint <run or file> or as --onnx <file> (one of them)',
    );
  let forward: (x: Tensor) => Tensor;
  let features: number;
  let classNames: readonly string[] | null;
  let source: string;
  if (o.checkpoint) {
    const m = loadCheckpointModel(o.checkpoint);
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
  const { x, names } = await readPredictInput(o.input, features);
  const probs = noGrad(() => softmax(forward(x), -1));
  const classes = probs.shape[1];
  const label = (i: number) => classNames?.[i] ?? `class ${i}`;
  const p = await probs.read();
  const top = Math.min(o.top ?? 3, classes);
  const labels = o.labels ? readInputLabels(o.labels, names.length) : null;
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
