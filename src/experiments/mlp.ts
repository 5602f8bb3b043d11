/**
 * `mlp` (D2L §5.2): Fashion-MNIST's 784-256-10 MLP, N(0, 0.01) init, SGD lr 0.1, 10 epochs, batch
 * 256 → test accuracy ≥ 0.82. `quick` trains 3 epochs on 10,000 images, with its own expectation.
 */
import { formatNumber } from '../util/number.js';
import { fashionMlp, images, oneRunExperiment } from './fashionTrainer.js';

export const mlp = oneRunExperiment('mlp', {
  title: 'Multilayer perceptron on Fashion-MNIST',
  label: '784-256-10',
  model: (g) => fashionMlp([256], [], g),
  epochs: 10,
  quick: { epochs: 3, train: 10000, test: 2000 },
  training: { batchSize: 256, optimizer: 'sgd', lr: 0.1 },
  check: (r, run) =>
    run.quick
      ? {
          name: `short run (3 epochs, ${images(run.data)}): learns far above chance (0.1) — test accuracy ≥ 0.5; the chapter's ≥ 0.82 is for the full run, keel experiment mlp`,
          passed: r.testAccuracy >= 0.5,
        }
      : { name: 'test accuracy ≥ 0.82 after 10 epochs (D2L §5.2)', passed: r.testAccuracy >= 0.82 },
  rows: (r) => [['train accuracy (eval mode)', formatNumber(r.trainEvalAccuracy)]],
  settings: (epochs) => ({
    model: '784-256-10, ReLU',
    init: 'N(0, 0.01), zero biases',
    optimizer: 'SGD',
    lr: 0.1,
    batchSize: 256,
    epochs,
  }),
});
