/** Node-only entry (`keel/node`): engine settings (relaxed SIMD on Node 20) and file access for data sets. */
import './engine.js';

export * from './fashionMnist.js';
