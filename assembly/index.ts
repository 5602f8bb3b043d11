// The one WebAssembly module of keel's wasm backend: the GEMM and the element-wise kernels share a
// linear memory (and, in the shared builds, the worker threads' memory).
export { fill32, gemmRows, gemmSmall, heapBase, packB, packedBFloats, rowsWorkspaceBytes } from './gemm';
export { binary, dropout, sgd, unary } from './elementwise';
export { optimizerStep } from './optimizer';
export { gatherPixels, gatherRows, reluBackward, reluDropout } from './epilogue';
export { countCorrect } from './count';
export { columnSums, crossEntropyStep, expF64, logF64 } from './crossentropy';
