/**
 * Node engine settings that must precede the first WebAssembly compile: on Node 20 (V8 11.3)
 * relaxed SIMD — the fused multiply-add GEMM — sits behind a V8 flag that NODE_OPTIONS refuses but
 * `v8.setFlagsFromString` accepts; newer Node ships it on. Imported for its effect by keel/node and
 * the CLI.
 */
import v8 from 'node:v8';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
