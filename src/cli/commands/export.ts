/**
 * `keel export --checkpoint runs/<name> --onnx model.onnx [--safetensors weights.safetensors]`: a
 * run's trained model as ONNX and/or a PyTorch-named state dict (io/node/export.ts).
 */
import type { Command } from 'commander';
import { KEEL_VERSION } from '../../util/version.js';
import { type Cli, load } from '../context.js';

/** Registers `keel export`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('export')
    .description(
      "write a run's trained model as ONNX (opset 17) and/or a PyTorch-named safetensors state dict",
    )
    .requiredOption('--checkpoint <run>', 'a run directory (runs/<name>) or its checkpoint file')
    .option('--onnx <file>', 'the ONNX file to write')
    .option('--safetensors <file>', 'the state dict to write (loads into the same PyTorch nn.Sequential)')
    .action(async (o: { checkpoint: string; onnx?: string; safetensors?: string }) => {
      const { exportModel } = await load('keel export', () => import('../../io/node/export.js'));
      exportModel({ ...o, version: KEEL_VERSION, log: cli.log });
    });
}
