/** Datasets, loaders, synthetic data and Fashion-MNIST facts (`data`); file access is in io/node. */
export * from './dataset.js';
export * from './fashionMnist.js';
export * from './idx.js';
export * from './loader.js';
export * from './synthetic.js';
export * as transforms from './transforms/index.js';
