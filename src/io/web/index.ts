/**
 * Browser-only entry (`keel/web`): worker threads for the wasm GEMM on cross-origin-isolated pages,
 * and the webgpu backend on `navigator.gpu`.
 */
export { enableWasmThreads, wasmThreadsUnavailable } from './threads.js';
export { enableWebGpu, webGpuAdapterName, webGpuUnavailable } from './webgpu.js';
