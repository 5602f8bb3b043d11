/**
 * Node-only entry (`keel/node`): engine settings (relaxed SIMD on Node 20), file access for data
 * sets, atomic file writes and safetensors files, and the GPU (`enableWebGpu`: the webgpu backend on
 * npm webgpu, loaded only when called).
 */
import './engine.js';

export * from './fashionMnist.js';
export { loadSafetensors, saveSafetensors, writeFileAtomic } from './files.js';
export { disableWebGpu, enableWebGpu, probeWebGpu, webGpuAdapter } from './webgpu.js';
