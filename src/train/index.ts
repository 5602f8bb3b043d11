/** Training: `fit`, `evaluate`, callbacks, checkpoints and metrics (`train`). */
export * from './callbacks.js';
export * from './checkpoint.js';
export * from './fit.js';
export * from './metrics.js';
