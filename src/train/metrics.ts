/** Metrics on a batch: the number of correct class predictions (argmax over the last axis). */
import { cast, eq } from '../ops/elementwise.js';
import { argmax, sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

/** Count of rows whose argmax equals the int32 label, as an int32 scalar left on the backend. */
export function countCorrect(logits: Tensor, labels: Tensor): Tensor {
  return sum(cast(eq(argmax(logits, -1), labels), 'int32'));
}

/** Count of rows whose argmax equals the int32 label. */
export function correctCount(logits: Tensor, labels: Tensor): number {
  return countCorrect(logits, labels).item();
}

/** Fraction of rows predicted correctly. */
export function accuracy(logits: Tensor, labels: Tensor): number {
  return labels.size === 0 ? 0 : correctCount(logits, labels) / labels.size;
}
