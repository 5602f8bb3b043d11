/** keel's optimizers, weight-decay transforms, parameter groups, schedulers and gradient clipping (`optim`). */
export * from './chainOptimizer.js';
export * from './clip.js';
export * from './fused.js';
export * from './groups.js';
export * from './optimizer.js';
export * from './optimizers.js';
export * from './schedulers.js';
export * from './transforms.js';
