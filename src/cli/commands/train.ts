/**
 * `keel train --config run.json [flags]`: validates the configuration (flags override it), loads the
 * data, trains with a progress bar, streams metrics to runs/<name>/metrics.jsonl, and writes
 * report.html with loss/accuracy curves and per-layer gradient norms.
 */
import { readFileSync } from 'node:fs';
import type { ImageSet } from '../../data/fashionMnist.js';
import { formatAlarm } from '../../diagnostics/alarms.js';
import { Diagnostics } from '../../diagnostics/monitor.js';
import { diagnosticsPlots, sampleRow } from '../../diagnostics/report.js';
import { crossEntropy } from '../../nn/functional/loss.js';
import { curvePlots, linePlot, type Point } from '../../report/plots.js';
import { gradNormTracker } from '../../train/callbacks.js';
import { type Callback, fit, type History } from '../../train/fit.js';
import { Generator } from '../../util/random.js';
import { buildData, buildModel, buildOptimizer, buildScheduler } from '../build.js';
import { applyOverrides, ConfigError, type Overrides, parseConfig, type RunConfig } from '../config.js';
import { loadFashion } from '../fashion.js';
import { terminalProgress } from '../progress.js';
import { RunDir } from '../runDir.js';

/** Reads and validates a config file with flag overrides. */
export function loadConfig(path: string | undefined, overrides: Overrides): RunConfig {
  let raw: Record<string, unknown> = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return parseConfig(applyOverrides(raw, overrides), path);
}

/** Result of a training run. */
export interface TrainResult {
  config: RunConfig;
  history: History;
  report: string;
  dir: string;
}

/** Runs `keel train`. */
export async function trainCommand(
  config: RunConfig,
  opts: {
    out: string;
    log: (l: string) => void;
    tty?: boolean;
    diagnostics?: boolean;
    diagnosticsEvery?: number;
  },
): Promise<TrainResult> {
  const { log } = opts;
  let fashion: { train: ImageSet; test: ImageSet } | null = null;
  if (config.data.dataset === 'fashion-mnist') {
    fashion = await loadFashion({ download: config.data.download, limit: config.data.limit, log });
  }
  const g = new Generator(config.seed);
  const data = buildData(config, fashion);
  const model = buildModel(config, data.inputs, data.classes, g);
  const optimizer = buildOptimizer(config, model);
  const sched = buildScheduler(config, optimizer, data.train.length);
  const run = new RunDir(opts.out, config.name);
  run.writeConfig(config);
  log(`training ${config.name}: ${data.description}`);
  log(model.toString());
  const grads = gradNormTracker();
  const diag =
    opts.diagnostics === false
      ? null
      : new Diagnostics(model, {
          every: opts.diagnosticsEvery,
          onAlarm: (a) => {
            log(formatAlarm(a));
            run.appendMetrics({ type: 'alarm', ...a });
          },
        });
  const callbacks: Callback[] = [
    grads,
    ...(diag ? [diag.callback()] : []),
    {
      onEpochEnd(r) {
        for (const s of diag?.samples.filter((x) => x.epoch === r.epoch) ?? [])
          run.appendMetrics(sampleRow(s));
        run.appendMetrics({
          type: 'epoch',
          ...r,
          gradNorms: grads.rows.filter((x) => x.epoch === r.epoch).map(({ name, norm }) => ({ name, norm })),
        });
        return undefined;
      },
    },
  ];
  if (sched && !sched.perBatch) {
    const s = sched.scheduler;
    callbacks.push({
      onEpochEnd() {
        s.step();
        return undefined;
      },
    });
  }
  const history = fit({
    model,
    optimizer,
    train: data.train,
    validation: data.validation,
    test: data.test,
    epochs: config.epochs,
    loss: (o, y) => crossEntropy(o, y, { labelSmoothing: config.labelSmoothing }),
    clipGradNorm: config.clipGradNorm,
    onStep: sched?.perBatch ? () => sched.scheduler.step() : undefined,
    callbacks,
    progress: terminalProgress(log, opts.tty),
  });
  const gradPts: Point[] = grads.rows
    .filter((r) => r.name.endsWith('weight'))
    .map((r) => ({ x: r.epoch, y: r.norm, series: r.name }));
  const last = history.epochs[history.epochs.length - 1];
  const plots = [
    ...curvePlots(config.name, [{ label: config.name, epochs: history.epochs }]),
    linePlot(gradPts, {
      id: `${config.name}-grad-norms`,
      title: 'Gradient norm per layer (last batch of each epoch)',
      xTitle: 'epoch',
      yTitle: '‖∂L/∂W‖',
      logY: true,
    }),
    ...(diag ? diagnosticsPlots(diag, config.name) : []),
  ];
  const summary: [string, string][] = [
    ['data', data.description],
    ['epochs', String(history.epochs.length)],
  ];
  if (last?.testAccuracy !== undefined) summary.push(['test accuracy', last.testAccuracy.toFixed(4)]);
  if (last)
    summary.push(
      ['final train loss', last.trainLoss.toFixed(4)],
      [
        'seconds per epoch',
        (history.epochs.reduce((s, e) => s + e.seconds, 0) / history.epochs.length).toFixed(2),
      ],
    );
  if (diag) {
    const list = diag.alarms.map((a) => `${a.kind} (${a.where.join(', ')})`).join('; ');
    summary.push(['diagnostics alarms', list || 'none']);
  }
  const findings = diag?.alarms.map(
    (a) =>
      `${a.kind} at ${a.where.join(', ')} (epoch ${a.epoch}, step ${a.step}): ${a.message}. Try: ${a.suggestion}`,
  );
  const report = await run.writeReport(
    {
      title: `keel train: ${config.name}`,
      subtitle: model.layers.map((m) => `${m.constructor.name}(${m.extraRepr()})`).join(' → '),
      summary,
      findings,
      config,
    },
    plots,
  );
  log(`report: ${report}`);
  return { config, history, report, dir: run.dir };
}
