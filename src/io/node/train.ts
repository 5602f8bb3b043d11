/**
 * A training run into its run directory (`keel train`, a sweep's trial, `keel shift`'s source model):
 * loads the data of a validated configuration, trains with progress on the terminal, streams metrics
 * to <out>/<name>/metrics.jsonl, checkpoints, and writes report.html with loss/accuracy curves, per-layer gradient norms and the diagnostics. A diverged
 * loss stops training (unless `divergence.onNonFinite` is 'continue') with the anomaly-mode diagnosis
 * in the report; an interrupt (the `signal`) or an error still writes the report of what ran, marked
 * as such, before the error goes on to the caller.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSet } from '../../data/fashionMnist.js';
import { formatAlarm } from '../../diagnostics/alarms.js';
import { Diagnostics } from '../../diagnostics/monitor.js';
import { activationBins, sampleRow } from '../../diagnostics/report.js';
import { serializeSafetensors } from '../../format/safetensors.js';
import { crossEntropy } from '../../nn/functional/loss.js';
import { trainReport } from '../../report/train.js';
import { buildData, buildModel, buildOptimizer, buildScheduler } from '../../run/build.js';
import type { RunConfig } from '../../run/config.js';
import { RunAbortedError, type RunEnd } from '../../run/end.js';
import { gradNormTracker, schedulerStep } from '../../train/callbacks.js';
import {
  CheckpointError,
  parseCheckpoint,
  serializeCheckpoint,
  type TrainingCheckpoint,
} from '../../train/checkpoint.js';
import { type Callback, fit, type History, InterruptedError } from '../../train/fit.js';
import { Rng } from '../../util/random.js';
import { loadFashion } from './fashionCache.js';
import { FileWriteError } from './fsErrors.js';
import { environmentInfo } from './info.js';
import { terminalProgress } from './progress.js';
import { CHECKPOINT_FILE, RunDir } from './runDir.js';

/** Result of a training run. */
export interface TrainResult {
  config: RunConfig;
  history: History;
  report: string;
  dir: string;
  end: RunEnd;
}

/** Trains the run `config` describes into <out>/<name>/; resolves when it completed or diverged. */
export async function runTraining(
  config: RunConfig,
  opts: {
    out: string;
    log: (l: string) => void;
    tty?: boolean;
    diagnostics?: boolean;
    diagnosticsEvery?: number;
    signal?: AbortSignal;
    /** More `fit` callbacks (a page or a sweep watching the run). */
    callbacks?: Callback[];
    /** Continue the run in out/<name>/ from its checkpoint. */
    resume?: boolean;
    /** Start over a run directory that already holds a run. */
    force?: boolean;
    /** The run directory lock's lease in ms (runLock.ts; a queue worker's lock duration). */
    lease?: number;
  },
): Promise<TrainResult> {
  // First, before any data is loaded: never overwrite an earlier run by accident.
  // The lock is taken here too: a second process on the same run directory is refused.
  const run = new RunDir(opts.out, config.name, opts.resume ? 'resume' : opts.force ? 'force' : 'new', {
    lease: opts.lease,
  });
  try {
    return await trainInto(run, config, opts);
  } finally {
    run.release();
  }
}

/** What a failed write leaves the user to do: continue from the last checkpoint, or start over. */
function afterWriteFailure(run: RunDir): string {
  return existsSync(join(run.dir, CHECKPOINT_FILE))
    ? `The last checkpoint (${join(run.dir, CHECKPOINT_FILE)}) is intact: once the file can be written (free space, fix permissions), continue with 'keel train --resume ${run.dir}'`
    : `Nothing was checkpointed yet: once the file can be written, start the run over with --force`;
}

/** runTraining's work once its run directory is open (and locked). */
async function trainInto(
  run: RunDir,
  config: RunConfig,
  opts: Parameters<typeof runTraining>[1],
): Promise<TrainResult> {
  const { log } = opts;
  let resume: TrainingCheckpoint | undefined;
  if (opts.resume) {
    const path = join(run.dir, CHECKPOINT_FILE);
    if (!existsSync(path))
      throw new CheckpointError(
        `${path} does not exist: the run stopped before its first checkpoint (start it over with --force)`,
      );
    resume = parseCheckpoint(readFileSync(path), path);
  }
  let fashion: { train: ImageSet; test: ImageSet } | null = null;
  if (config.data.dataset === 'fashion-mnist') {
    fashion = await loadFashion({ download: config.data.download, limit: config.data.limit, log });
  }
  const g = new Rng(config.seed);
  const data = buildData(config, fashion);
  const model = buildModel(config, data.inputs, data.classes, g);
  const optimizer = buildOptimizer(config, model);
  const sched = buildScheduler(config, optimizer, data.train.length);
  const { environment: _env, ...settings } = config;
  if (resume) {
    const at = resume.state.position;
    run.truncateMetrics(at.epoch);
    run.appendMetrics({ type: 'resume', ...at });
    log(`resuming ${config.name} at epoch ${at.epoch}, batch ${at.batch + 1} (step ${at.step} done)`);
  } else {
    run.writeConfig({ ...config, environment: environmentInfo() });
    run.appendMetrics({
      type: 'start',
      data: data.description,
      model: model.toString(),
      layers: model.layers.map((m) => `${m.constructor.name}(${m.extraRepr()})`).join(' → '),
    });
  }
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
  let written = 0;
  const callbacks: Callback[] = [
    grads,
    ...(diag ? [diag.callback()] : []),
    {
      onEpochEnd(r) {
        for (const s of diag?.samples.slice(written) ?? []) run.appendMetrics(sampleRow(s));
        written = diag?.samples.length ?? 0;
        if (diag) run.appendMetrics({ type: 'activations', epoch: r.epoch, layers: activationBins(diag) });
        run.appendMetrics({
          type: 'epoch',
          ...r,
          gradNorms: grads.rows.filter((x) => x.epoch === r.epoch).map(({ name, norm }) => ({ name, norm })),
        });
      },
    },
  ];
  callbacks.push(...(opts.callbacks ?? []));
  if (sched) {
    const s = sched.scheduler;
    callbacks.push(schedulerStep(s, 'valLoss', { per: sched.perBatch ? 'batch' : 'epoch' }));
  }
  const t0 = performance.now();
  let history: History;
  try {
    history = await fit({
      model,
      optimizer,
      train: data.train,
      validation: data.validation,
      test: data.test,
      epochs: config.epochs,
      loss: (o, y) => crossEntropy(o, y, { labelSmoothing: config.labelSmoothing }),
      clipGradNorm: config.clipGradNorm,
      // false in the run's configuration forces eager steps; otherwise keel --eager decides.
      ...(config.compile ? {} : { compile: false }),
      callbacks,
      progress: terminalProgress(log, opts.tty),
      divergence: config.divergence,
      signal: opts.signal,
      // The configuration rides along, so a checkpoint alone can rebuild its model (export, predict).
      checkpoint: {
        save: (c) => run.writeCheckpoint(serializeCheckpoint(c, { config: JSON.stringify(settings) })),
        every: config.checkpoint.everyEpochs,
        minutes: config.checkpoint.minutes,
      },
      resume,
    });
  } catch (e) {
    diag?.detach();
    const epochs = run.readMetrics().filter((r) => r.type === 'epoch').length;
    const end: RunEnd =
      e instanceof InterruptedError
        ? { kind: 'interrupted', signal: String(e.reason ?? 'abort'), ...e.at, epochs }
        : { kind: 'failed', error: (e as Error)?.message ?? String(e), epochs };
    // The report of what ran, if it can be written: a full disk must not hide the error itself.
    let report: string | null = null;
    let reportError: unknown;
    try {
      // Samples of the unfinished epoch are written too: the report shows everything measured.
      for (const s of diag?.samples.slice(written) ?? []) run.appendMetrics(sampleRow(s));
      run.appendMetrics({ type: 'end', ...end });
      report = await run.writeReport(trainReport(run.readMetrics(), config, end));
    } catch (w) {
      reportError = w;
    }
    const hint = e instanceof FileWriteError ? afterWriteFailure(run) : undefined;
    throw new RunAbortedError(e, end, report, reportError, hint);
  }
  for (const s of diag?.samples.slice(written) ?? []) run.appendMetrics(sampleRow(s));
  const d = history.divergence;
  if (d) run.appendMetrics({ type: 'divergence', ...d });
  const end: RunEnd = d
    ? {
        kind: 'diverged',
        divergence: d,
        continued: config.divergence.onNonFinite === 'continue',
        epochs: history.epochs.length,
      }
    : { kind: 'completed', epochs: history.epochs.length, seconds: (performance.now() - t0) / 1000 };
  let report: string;
  try {
    run.appendMetrics({ type: 'end', kind: end.kind, epochs: end.epochs });
    run.writeModel(serializeSafetensors(model.stateDict(), { format: 'pt' }));
    report = await run.writeReport(trainReport(run.readMetrics(), config, end));
  } catch (e) {
    if (!(e instanceof FileWriteError)) throw e;
    throw new FileWriteError(
      e.path,
      e.code,
      `${e.message}. Training finished; its final checkpoint is intact: once the file can be written, 'keel train --resume ${run.dir}' writes the rest`,
    );
  }
  log(`report: ${report}`);
  return { config, history, report, dir: run.dir, end };
}
