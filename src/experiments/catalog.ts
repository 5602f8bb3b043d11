/**
 * The chapter's experiments as the command line lists them — name, one-line description, whether
 * Fashion-MNIST is needed — in the chapter's order, without their code: `keel experiment --help`
 * and the demo's plan read this, and each experiment's module takes its name and description from
 * here (`about`), so they are written once. index.ts maps every name to its experiment (a name
 * without one fails the type check).
 */

const INFO = {
  'underfit-overfit': {
    description: 'polynomial regression: degree 3 fits, degree 1 underfits, degree 20 on few points overfits',
    needsFashion: false,
  },
  'weight-decay': {
    description:
      'high-dimensional linear regression: ‖w‖ and test loss with λ = 0 vs λ = 3 (penalty, optimizer groups, L1)',
    needsFashion: false,
  },
  mlp: {
    description:
      'Fashion-MNIST, 784-256-10 MLP, SGD lr 0.1, 10 epochs, batch 256 (D2L: test accuracy ≥ 0.82)',
    needsFashion: true,
  },
  dropout: {
    description:
      'Fashion-MNIST, 784-256-256-10 with dropout 0.2/0.5, SGD lr 0.5, 10 epochs (D2L ≈ 0.85; checked ≥ 0.84 on the median of the last three epochs, PyTorch by seed: 0.845–0.860); then with vs without dropout on 1,000 images, where the net overfits',
    needsFashion: true,
  },
  stability: {
    description: 'vanishing/exploding gradients, initialization, symmetry breaking and clipping, measured',
    needsFashion: false,
  },
  memory: {
    description: 'bytes kept for backward vs prediction for the dropout MLP, against batch size and depth',
    needsFashion: false,
  },
  'label-shift': {
    description:
      'Fashion-MNIST under label shift: BBSE, RLLS and EM+BCTS prior estimates, post-hoc correction, shift tests (Lipton et al. 2018; Alexandari et al. 2020)',
    needsFashion: true,
  },
  'covariate-shift': {
    description:
      'Fashion-MNIST trained on a brightness-biased sample: importance weights from a domain classifier, naive vs weighted training, shift tests (D2L §4.7)',
    needsFashion: true,
  },
  perturbation: {
    description:
      'robustness to perturbation: on 2,000 Fashion-MNIST images, no regularization vs weight decay, dropout, input noise, augmentation (shift + flip) and dropout + augmentation over 3 seeds; train–test gaps and sensitivity to test-time noise',
    needsFashion: true,
  },
  'best-mlp': {
    description:
      'the best plain MLP: 784-1024-512-10 with dropout, AdamW (decoupled decay on weights only), label smoothing, one-cycle over 120 epochs and shifted training images; ≥ 0.902 per seed, ≥ 0.905 over 3 seeds (--seeds 3)',
    needsFashion: true,
  },
} as const satisfies Record<string, { description: string; needsFashion: boolean }>;

/** An experiment's name. */
export type ExperimentName = keyof typeof INFO;

/** What the command line shows of an experiment. */
export interface ExperimentInfo {
  name: ExperimentName;
  description: string;
  needsFashion: boolean;
}

/** An experiment's name, description and data needs. */
export function about(name: ExperimentName): ExperimentInfo {
  return { name, ...INFO[name] };
}

/** Every experiment, in the order of the chapter. */
export const CATALOG: readonly ExperimentInfo[] = (Object.keys(INFO) as ExperimentName[]).map(about);
