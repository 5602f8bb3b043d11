/** Metrics on a batch: the number of correct class predictions (argmax over the last axis). */
import { argmax } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

/** Count of rows whose argmax equals the int32 label. */
export function correctCount(logits: Tensor, labels: Tensor): number {
  const pred = argmax(logits, -1).readSync();
  const y = labels.readSync();
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c;
}

/** Fraction of rows predicted correctly. */
export function accuracy(logits: Tensor, labels: Tensor): number {
  return labels.size === 0 ? 0 : correctCount(logits, labels) / labels.size;
}
