/**
 * `keel/onnx`: ONNX export and reading of keel's models (format/onnx.ts, format/onnxRun.ts), bytes in
 * and bytes out. An entry of its own because the ONNX schema comes from npm `onnx-proto`
 * (protobufjs), an optional dependency that `import 'keel'` does not load: install it to use these.
 */
export { exportOnnx, ONNX_OPSET, OnnxExportError, type OnnxExportOptions } from './format/onnx.js';
export { loadOnnx, OnnxFormatError, type OnnxModel } from './format/onnxRun.js';
