/**
 * A run's model exported (`keel export --checkpoint runs/<name> --onnx model.onnx [--safetensors
 * weights.safetensors]`): the trained model of a run (rebuilt from its checkpoint, in eval mode) as
 * an ONNX file for onnxruntime and other ONNX tools (opset 17, dynamic batch axis) and/or as a plain
 * safetensors state dict under PyTorch's names. Files are written atomically.
 */
import { backend, hostBackend, withBackend } from '../../backend/registry.js';
import { exportOnnx } from '../../format/onnx.js';
import { serializeSafetensors } from '../../format/safetensors.js';
import { ValueError } from '../../util/errors.js';
import { loadCheckpointModel } from './checkpointModel.js';
import { writeFileAtomic } from './files.js';

/** Writes the requested files; returns their paths. */
export function exportModel(o: {
  checkpoint: string;
  onnx?: string;
  safetensors?: string;
  version?: string;
  log: (l: string) => void;
}): string[] {
  if (!o.onnx && !o.safetensors)
    throw new ValueError('keel export: say what to write: --onnx <file> and/or --safetensors <file>');
  // Exporting computes nothing and reads every weight: where the active backend's memory is read
  // asynchronously (webgpu), the model is rebuilt on a CPU backend instead.
  return backend().sync !== undefined ? withBackend(hostBackend(), () => write(o)) : write(o);
}

function write(o: Parameters<typeof exportModel>[0]): string[] {
  const { model, config, inputs, path } = loadCheckpointModel(o.checkpoint);
  const written: string[] = [];
  if (o.onnx) {
    writeFileAtomic(
      o.onnx,
      exportOnnx(model, { inputShape: [inputs], name: config.name, producerVersion: o.version }),
    );
    written.push(o.onnx);
  }
  if (o.safetensors) {
    writeFileAtomic(o.safetensors, serializeSafetensors(model.stateDict(), { format: 'pt' }));
    written.push(o.safetensors);
  }
  o.log(
    `exported ${config.name} (${path}): ${written.join(', ')} — input [batch, ${inputs}], ${model.parameters().length} parameter tensors`,
  );
  return written;
}
