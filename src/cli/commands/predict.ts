/**
 * `keel predict --checkpoint runs/<name> | --onnx model.onnx --input <file or directory>`: class
 * predictions with probabilities for every sample (io/node/predict.ts), printed as a table (the
 * first 20) with the accuracy when labels are given, or as JSON.
 */
import type { Command } from 'commander';
import type { PredictResult } from '../../io/node/predict.js';
import { type Cli, load } from '../context.js';
import { posInt } from '../flags.js';

type PredictFlags = {
  checkpoint?: string;
  onnx?: string;
  input: string;
  labels?: string;
  top: number;
  json?: boolean;
};

/** Registers `keel predict`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('predict')
    .description('predict classes with probabilities from a checkpoint or an ONNX file')
    .option('--checkpoint <run>', 'a run directory (runs/<name>) or its checkpoint file')
    .option('--onnx <file>', 'an ONNX file (as keel export writes)')
    .requiredOption(
      '--input <path>',
      'an IDX image file (.gz or not), a directory of PNGs, a .npy or a .json array',
    )
    .option('--labels <file>', 'IDX labels of the inputs: adds the accuracy')
    .option('--top <k>', 'classes listed per sample', posInt('--top'), 3)
    .option('--json', 'print every prediction as JSON')
    .action(async (o: PredictFlags) => {
      const { predict } = await load('keel predict', () => import('../../io/node/predict.js'));
      const r = await predict(o);
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else for (const line of formatPredictions(r)) cli.log(line);
    });
}

/** The predictions as text lines: a table, and the accuracy when known. */
export function formatPredictions(r: PredictResult, limit = 20): string[] {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const rows = r.predictions.slice(0, limit).map((q) => [
    q.sample,
    q.predicted,
    pct(q.probability),
    q.top
      .slice(1)
      .map((t) => `${t.label} ${pct(t.probability)}`)
      .join(', '),
    q.label === undefined ? '' : q.correct ? `✓ ${q.label}` : `✗ ${q.label}`,
  ]);
  const head = ['sample', 'predicted', 'p', 'next', r.accuracy === undefined ? '' : 'label'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  if (r.predictions.length > limit) out.push(`… ${r.predictions.length - limit} more (--json prints all)`);
  if (r.accuracy !== undefined) out.push(`accuracy ${pct(r.accuracy)} on ${r.predictions.length} samples`);
  return out;
}
