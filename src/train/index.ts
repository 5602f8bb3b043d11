/** Training: `fit`, `evaluate`, callbacks and metrics (`train`). */
export * from './callbacks.js';
export * from './fit.js';
export * from './metrics.js';
