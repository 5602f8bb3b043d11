/** Browser-only entry (`keel/web`): worker threads for the wasm GEMM on cross-origin-isolated pages. */
export { enableWasmThreads, wasmThreadsUnavailable } from './threads.js';
