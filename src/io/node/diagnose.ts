/**
 * A diagnosis (`keel diagnose --config run.json [--steps 20]`): trains a few steps of the configured run with
 * diagnostics on every step and prints a health table — per parameter: gradient norm, weight norm,
 * update/weight ratio; per layer output: mean, std, dead and saturated units — at the first and the
 * last step, followed by any alarms with what to try.
 */
import Table from 'cli-table3';
import type { ImageSet } from '../../data/fashionMnist.js';
import { type Alarm, formatAlarm } from '../../diagnostics/alarms.js';
import { Diagnostics, type Sample } from '../../diagnostics/monitor.js';
import { healthRows } from '../../diagnostics/report.js';
import { crossEntropy } from '../../nn/functional/loss.js';
import { buildData, buildModel, buildOptimizer } from '../../run/build.js';
import type { RunConfig } from '../../run/config.js';
import { ValueError } from '../../util/errors.js';
import { Rng } from '../../util/random.js';
import { loadFashion } from './fashionCache.js';
import { refuseAsyncMemory } from './syncReads.js';

function table(title: string, s: Sample): string {
  const rows = healthRows(s);
  const p = new Table({
    head: ['parameter', '‖grad‖', '‖w‖', '‖Δw‖/‖w‖'],
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows.params) p.push(r);
  const l = new Table({
    head: ['layer output', 'mean', 'std', 'dead', 'saturated'],
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows.layers) l.push(r);
  return `${title} (loss ${s.loss.toFixed(4)}, total ‖grad‖ ${s.totalGradNorm.toExponential(2)})\n${p.toString()}\n${l.toString()}`;
}

/** Runs the diagnosis; returns the samples and alarms. */
export async function runDiagnosis(
  config: RunConfig,
  o: { steps: number; log: (l: string) => void },
): Promise<{ samples: Sample[]; alarms: Alarm[] }> {
  if (!Number.isInteger(o.steps) || o.steps < 1)
    throw new ValueError(`diagnose: --steps must be a positive integer, got ${o.steps}`);
  // Before any data is read: every step's diagnostics read gradients and activations synchronously.
  refuseAsyncMemory(
    'diagnose',
    'diagnostics read gradients and activations synchronously at every step',
    'it',
  );
  let fashion: { train: ImageSet; test: ImageSet } | null = null;
  if (config.data.dataset === 'fashion-mnist')
    fashion = await loadFashion({
      download: config.data.download,
      limit: config.data.limit ?? 10000,
      log: o.log,
    });
  const g = new Rng(config.seed);
  const data = buildData(config, fashion);
  const model = buildModel(config, data.inputs, data.classes, g);
  const optimizer = buildOptimizer(config, model);
  const d = new Diagnostics(model, { every: 1 });
  let step = 0;
  while (step < o.steps) {
    for (const [x, y] of data.train) {
      if (step >= o.steps) break;
      d.beginStep(1);
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(x), y, { labelSmoothing: config.labelSmoothing });
      loss.backward();
      d.afterBackward(loss.item());
      optimizer.step();
      d.afterStep();
      step++;
    }
  }
  d.detach();
  o.log(table(`step 1`, d.samples[0]));
  if (d.samples.length > 1) o.log(table(`step ${d.samples.length}`, d.samples[d.samples.length - 1]));
  if (d.alarms.length === 0) o.log(`healthy: no alarm in ${o.steps} steps`);
  for (const a of d.alarms) o.log(formatAlarm(a));
  return { samples: d.samples, alarms: d.alarms };
}
