/** Compiled steps (`compile`): trace a function over tensors once, replay it as a plan. */
export {
  type CompiledFunction,
  CompileError,
  type CompileOptions,
  compile,
  type Outputs,
} from './compile.js';
