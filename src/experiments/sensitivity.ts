/**
 * How much a trained model's output moves when its input is perturbed at test time — the chapter's
 * "robustness to perturbation" measured: for each σ, the images plus N(0, σ²) noise (the same draws
 * for every model: one generator per σ from a fixed seed), and the mean Euclidean change of the
 * logits ‖f(x + ε) − f(x)‖₂ over the images, with the accuracy on the noisy images. Eval mode, no
 * gradients, batches of 1,000 on the backend; one host read per batch and σ.
 */
import { noGrad } from '../autograd/mode.js';
import type { ImageSet } from '../data/fashionMnist.js';
import { gaussianNoise } from '../data/transforms/noise.js';
import type { Module } from '../nn/module.js';
import { sqrt, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { narrow } from '../ops/shape.js';
import { correctCount } from '../train/metrics.js';
import { Rng } from '../util/random.js';

/** The sensitivity at one noise level. */
export interface SensitivityPoint {
  sigma: number;
  /** Mean ‖f(x + ε) − f(x)‖₂ of the logits over the images. */
  logitChange: number;
  /** Accuracy on the noisy images. */
  accuracy: number;
}

/** The model's sensitivity to test-time input noise at each σ in `sigmas` (see the file's header). */
export function noiseSensitivity(
  model: Module,
  data: ImageSet,
  sigmas: readonly number[],
  seed: number,
): SensitivityPoint[] {
  const was = model.training;
  model.eval();
  try {
    return noGrad(() => {
      const n = data.labels.shape[0];
      const batch = 1000;
      return sigmas.map((sigma, s) => {
        const g = new Rng(seed * 7919 + s);
        const noise = gaussianNoise(sigma);
        let change = 0;
        let correct = 0;
        for (let from = 0; from < n; from += batch) {
          const size = Math.min(batch, n - from);
          const x = narrow(data.images, 0, from, size);
          const y = narrow(data.labels, 0, from, size);
          const clean = model.forward(x);
          const noisy = model.forward(noise.apply(x, { generator: g, training: true }));
          change += sum(sqrt(sum(square(sub(noisy, clean)), 1))).item();
          correct += correctCount(noisy, y);
        }
        return { sigma, logitChange: change / n, accuracy: correct / n };
      });
    });
  } finally {
    model.train(was);
  }
}
