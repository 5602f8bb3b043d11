/**
 * keel — deep learning in TypeScript. The public API: tensors and their creation, ops with
 * reverse-mode autograd, gradient checking, graph export, backends, seeded randomness, and the
 * `nn` (modules, losses, initializers) and `optim` (optimizers, schedulers, clipping) namespaces, and
 * the safetensors codec (bytes in, bytes out; file helpers in `keel/node`). ONNX export and reading
 * are `keel/onnx` (they need npm onnx-proto, which `import 'keel'` does not).
 */

export { AnomalyError, detectAnomaly } from './autograd/anomaly.js';
export {
  type BackwardObserver,
  type BackwardOptions,
  backward,
  type GradOptions,
  grad,
  observeBackward,
} from './autograd/engine.js';
export { type GraphStats, graphStats, savedBytes, toDot, toMermaid } from './autograd/export.js';
export {
  GradcheckError,
  type GradcheckOptions,
  type GradcheckResult,
  type GradcheckWorst,
  gradcheck,
} from './autograd/gradcheck.js';
export { enableGrad, isGradEnabled, noGrad } from './autograd/mode.js';
export { type Edge, GradNode } from './autograd/node.js';
export { type TapFn, tap } from './autograd/taps.js';
export {
  availableBackends,
  backendByName,
  getBackend,
  registerBackend,
  setBackend,
} from './backend/registry.js';
export type { Backend, DType, TypedArray, View } from './backend/types.js';
export * from './compile/index.js';
export * as data from './data/index.js';
export * as diagnostics from './diagnostics/index.js';
export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  type SafetensorsContent,
  SafetensorsError,
  serializeSafetensors,
} from './format/safetensors.js';
export * as nn from './nn/index.js';
export * from './ops/index.js';
export * as optim from './optim/index.js';
export * as shift from './shift/index.js';
export * from './tensor/create.js';
export { defaultFloatDType, isFloat, promote, setDefaultDType } from './tensor/dtype.js';
export { type NestedArray, Tensor } from './tensor/tensor.js';
export * as train from './train/index.js';
export { AutogradError, AxisError, DTypeError, KeelError, ShapeError, ValueError } from './util/errors.js';
export { defaultGenerator, manualSeed, Rng } from './util/random.js';
