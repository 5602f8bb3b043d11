/**
 * keel's neural-network layer: `Module`/`Parameter`, layers, losses, the functional API (`F`) and
 * initializers (`init`). Exposed as the `nn` namespace: `nn.Linear`, `nn.F.crossEntropy`,
 * `nn.init.xavierUniform_`.
 */
export * as F from './functional/index.js';
export * as init from './init.js';
export * from './layers/activation.js';
export * from './layers/containers.js';
export * from './layers/linear.js';
export * from './layers/loss.js';
export * from './layers/regularization.js';
export { type ActivationName, type MlpInit, type MlpOptions, mlp } from './mlp.js';
export { type ForwardHook, type HookHandle, type LoadResult, Module, StateDictError } from './module.js';
export { Parameter } from './parameter.js';
