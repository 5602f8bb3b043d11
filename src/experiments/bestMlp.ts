/**
 * `best-mlp`: a regularized MLP on Fashion-MNIST — 784-1024-512-10, dropout 0.3, AdamW with decoupled
 * decay on weight matrices only, label smoothing 0.1, one-cycle over 30 epochs — against the
 * Fashion-MNIST benchmark's best plain MLP (0.8833); checked ≥ 0.89. `quick` trains one epoch on
 * 5,000 images.
 */
import { fashionMlp, images, oneRunExperiment } from './fashionTrainer.js';

const LABEL = '784-1024-512-10, dropout 0.3';

export const bestMlp = oneRunExperiment('best-mlp', {
  title: 'A regularized MLP on Fashion-MNIST',
  label: LABEL,
  model: (g) => fashionMlp([1024, 512], [0.3, 0.3], g, 'default'),
  epochs: 30,
  quick: { epochs: 1, train: 5000, test: 2000 },
  training: {
    batchSize: 128,
    optimizer: 'adamw',
    lr: 2e-3,
    weightDecay: 0.05,
    labelSmoothing: 0.1,
    oneCycle: true,
  },
  check: (r, run) =>
    run.quick
      ? {
          name: `short run (1 epoch, ${images(run.data)}): the recipe runs end to end and learns — test accuracy ≥ 0.5; ≥ 0.89 is for the full 30 epochs, keel experiment best-mlp`,
          passed: r.testAccuracy >= 0.5,
        }
      : {
          name: 'test accuracy ≥ 0.89 (the benchmark’s best plain MLP: 0.8833)',
          passed: r.testAccuracy >= 0.89,
        },
  rows: () => [['best plain MLP in the Fashion-MNIST benchmark', '0.8833']],
  settings: (epochs) => ({
    model: LABEL,
    init: 'PyTorch default',
    optimizer: 'AdamW, weight decay 0.05 on weight matrices only',
    lr: '2e-3, one-cycle',
    labelSmoothing: 0.1,
    batchSize: 128,
    epochs,
  }),
});
