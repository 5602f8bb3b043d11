/**
 * Node-only entry (`keel/node`): engine settings (relaxed SIMD on Node 20), file access for data
 * sets, atomic file writes and safetensors files.
 */
import './engine.js';

export * from './fashionMnist.js';
export { loadSafetensors, saveSafetensors, writeFileAtomic } from './files.js';
