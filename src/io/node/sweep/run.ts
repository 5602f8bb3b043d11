/**
 * A sweep run (`keel sweep --config sweep.json [--workers N | --queue redis://host:port]`): runs a
 * sweep's trials (sweep/spec.ts) — each an ordinary run directory runs/<sweep>/<trial>/ — on local worker processes
 * (as many as cores by default) or on a BullMQ queue served by `keel worker`s, with a progress
 * display of trials done/running/failed and the ETA. A trial that fails records its error
 * (<trial>/error.json) and the sweep goes on. Re-running the same command skips the trials whose
 * result.json holds their parameters and runs the rest (an interrupted trial continues from its
 * checkpoint). At the end: runs/<sweep>/report.html (ranked table, metric against each axis, heat
 * maps), results.json, and the best trials on the terminal.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { sweepContent, sweepPlots } from '../../../report/sweep.js';
import { type RankedRow, rankTrials, type TrialOutcome } from '../../../sweep/results.js';
import { describe, type Sweep } from '../../../sweep/spec.js';
import { ValueError } from '../../../util/errors.js';
import { formatNumber } from '../../../util/number.js';
import { writeFileAtomic } from '../files.js';
import { ensureDir } from '../paths.js';
import { writeReportFiles } from '../runDir.js';
import { lockRunDir } from '../runLock.js';
import { LocalRunner, type TrialRunner } from './runners.js';
import { finishedResult, type TrialJob } from './trial.js';

/** Options of a sweep run. */
export interface SweepRunOptions {
  out: string;
  /** Local worker processes (default: the cores). */
  workers?: number;
  /** Threads per local worker (default 1). */
  threads?: number;
  /** A redis:// URL: run the trials on the BullMQ queue there instead. */
  queue?: string;
  backend?: string;
  log: (line: string) => void;
  tty?: boolean;
  signal?: AbortSignal;
}

/** What a sweep ran. */
export interface SweepRunResult {
  dir: string;
  report: string;
  rows: RankedRow[];
  /** Trials this command ran (the others had finished before). */
  ran: string[];
  skipped: string[];
  failed: string[];
  interrupted?: string;
  /** The signal that interrupted it. */
  interruptedBy?: string;
}

/** Progress on a terminal (one bar) or as lines. */
function progress(total: number, alreadyDone: number, log: (l: string) => void, tty: boolean) {
  const t0 = performance.now();
  let done = alreadyDone;
  let running = 0;
  let failed = 0;
  let ranHere = 0;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            'trials |{bar}| {value}/{total} done, {running} running, {failed} failed | {eta_formatted} left',
          hideCursor: true,
          etaBuffer: 4,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(total, done, { running, failed });
  const eta = () => {
    const left = total - done - failed;
    if (!ranHere || !left) return '';
    const s = (((performance.now() - t0) / 1000) * left) / ranHere;
    return ` — about ${s < 90 ? `${Math.ceil(s)} s` : `${Math.ceil(s / 60)} min`} left`;
  };
  return {
    started() {
      running++;
      bar?.update(done, { running, failed });
    },
    finished(line: string, ok: boolean) {
      running--;
      ranHere++;
      if (ok) done++;
      else failed++;
      if (bar) {
        bar.update(done, { running, failed });
        if (!ok) bar.increment(0);
      } else log(`[${done + failed}/${total}] ${line}${eta()}`);
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Runs (or resumes) a sweep. */
export async function runSweep(sweep: Sweep, o: SweepRunOptions): Promise<SweepRunResult> {
  if (o.queue && o.workers !== undefined)
    throw new ValueError(
      '--workers is for local sweeps; with --queue the workers are the keel worker processes',
    );
  const dir = join(o.out, sweep.name);
  ensureDir(dir, 'sweep directory');
  // One sweep command per sweep directory (its trials lock their own directories).
  const lock = lockRunDir(dir);
  try {
    return await sweepInto(dir, sweep, o);
  } finally {
    lock.release();
  }
}

/** runSweep's work once the sweep directory is locked. */
async function sweepInto(dir: string, sweep: Sweep, o: SweepRunOptions): Promise<SweepRunResult> {
  const { log } = o;
  const tty = o.tty ?? Boolean(process.stdout.isTTY);
  writeFileAtomic(join(dir, 'sweep.json'), `${JSON.stringify(sweep.source, null, 2)}\n`);
  writeFileAtomic(
    join(dir, 'trials.json'),
    `${JSON.stringify(
      sweep.trials.map((t) => ({ trial: t.name, params: t.params })),
      null,
      2,
    )}\n`,
  );
  const outcomes = new Map<string, TrialOutcome>();
  const pending: TrialJob[] = [];
  for (const t of sweep.trials) {
    const r = finishedResult(dir, t.name, t.params);
    if (r) outcomes.set(t.name, { trial: t.name, params: t.params, state: 'done', result: r });
    else {
      outcomes.set(t.name, { trial: t.name, params: t.params, state: 'unfinished' });
      pending.push({ sweep: sweep.name, trial: t.name, params: t.params, config: t.config, dir });
    }
  }
  const skipped = sweep.trials.filter((t) => !pending.some((p) => p.trial === t.name)).map((t) => t.name);
  const workers = o.workers ?? Math.max(1, Math.min(availableParallelism(), pending.length || 1));
  const t0 = performance.now();
  let runner: TrialRunner | null = null;
  let interrupted: string | undefined;
  const ran: string[] = [];
  const failed: string[] = [];
  if (pending.length) {
    runner = o.queue
      ? await (await import('./queueRunner.js')).QueueRunner.open(o.queue)
      : new LocalRunner(workers, { threads: o.threads, backend: o.backend });
    log(
      `sweep ${sweep.name}: ${sweep.trials.length} trials (${sweep.axes.join(', ')})${skipped.length ? `, ${skipped.length} finished before (skipped)` : ''}; ${pending.length} to run on ${runner.description}`,
    );
    const bar = progress(sweep.trials.length, skipped.length, log, tty);
    const active = runner;
    const onAbort = () => {
      interrupted = `interrupted by ${String(o.signal?.reason ?? 'a signal')}`;
      void active.close(true);
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(
        pending.map(async (job) => {
          try {
            const result = await active.run(job, () => bar.started());
            outcomes.set(job.trial, { trial: job.trial, params: job.params, state: 'done', result });
            ran.push(job.trial);
            rmSync(join(dir, job.trial, 'error.json'), { force: true });
            // Queue results come from Redis: the local sweep directory gets its copy too.
            if (o.queue)
              writeFileAtomic(join(dir, job.trial, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
            const m = result.metrics[sweep.metric.name];
            bar.finished(
              `${job.trial} (${describe(job.params)}): ${result.status === 'diverged' ? 'diverged; ' : ''}${sweep.metric.name} ${m === undefined ? '—' : formatNumber(m)} in ${result.seconds.toFixed(1)} s`,
              true,
            );
          } catch (e) {
            if (interrupted) return;
            const error = (e as Error)?.message ?? String(e);
            outcomes.set(job.trial, { trial: job.trial, params: job.params, state: 'failed', error });
            failed.push(job.trial);
            try {
              mkdirSync(join(dir, job.trial), { recursive: true });
              writeFileAtomic(
                join(dir, job.trial, 'error.json'),
                `${JSON.stringify({ trial: job.trial, params: job.params, error }, null, 2)}\n`,
              );
            } catch {
              // A full disk: the error is in results.json and on the terminal all the same.
            }
            bar.finished(`${job.trial} (${describe(job.params)}) failed: ${error.split('\n')[0]}`, false);
          }
        }),
      );
    } finally {
      bar.stop();
      o.signal?.removeEventListener('abort', onAbort);
      if (!interrupted) await runner.close(false);
    }
  } else log(`sweep ${sweep.name}: all ${sweep.trials.length} trials finished before; writing the summary`);
  // The summary.
  const rows = rankTrials(
    sweep,
    sweep.trials.map((t) => outcomes.get(t.name) as TrialOutcome),
  );
  const seconds = (performance.now() - t0) / 1000;
  const mode = pending.length ? (runner?.description ?? '') : 'nothing to run';
  writeFileAtomic(
    join(dir, 'results.json'),
    `${JSON.stringify({ sweep: sweep.name, metric: sweep.metric, trials: rows }, null, 2)}\n`,
  );
  const report = await writeReportFiles(dir, {
    content: sweepContent(sweep, rows, { seconds, mode, interrupted }),
    plots: sweepPlots(sweep, rows),
  });
  const best = rows.filter((r) => r.rank !== null).slice(0, 5);
  if (best.length) {
    log(`best by ${sweep.metric.name} (${sweep.metric.goal}):`);
    for (const r of best)
      log(`  ${r.rank}. ${r.trial} ${formatNumber(r.metric ?? Number.NaN)} — ${describe(r.params)}`);
  }
  if (failed.length)
    log(
      `${failed.length} trial${failed.length === 1 ? '' : 's'} failed: ${failed.join(', ')} (their error.json says why)`,
    );
  log(`report: ${report}`);
  const interruptedBy = interrupted ? String(o.signal?.reason ?? 'SIGINT') : undefined;
  return { dir, report, rows, ran, skipped, failed, interrupted, interruptedBy };
}
