/**
 * A sweep's queue worker (`keel worker --queue redis://host:port [--concurrency N] [--out dir]`): takes sweep trials from the
 * BullMQ queue (`keel sweep --queue` puts them there) and runs them, N at a time, each in a worker
 * process of its own with one thread (runners.ts' LocalRunner), writing the trial's run
 * directory under <out>/<sweep>/<trial>/ and returning its result to Redis.
 * - A worker that dies mid-trial (SIGKILL, a lost machine) stops renewing its lock on the job; after
 *   `--lock-duration` another worker's stalled-job check puts it back in the queue and a worker takes
 *   it again (it continues from the trial's checkpoint when the out directory is shared). BullMQ
 *   completes a job once: a late finish from a worker that lost the lock is refused, so no trial is
 *   counted twice.
 * - SIGTERM/SIGINT: stop taking trials, finish the running ones, exit (143/130); a second signal
 *   exits at once — its trials stall and go back to the queue.
 */
import { join } from 'node:path';
import { Worker } from 'bullmq';
import type { TrialResult } from '../../../sweep/results.js';
import { connectRedis } from './queueRunner.js';
import { LocalRunner, QUEUE_NAME } from './runners.js';
import type { TrialJob } from './trial.js';

/** Options of `keel worker`. */
export interface WorkerOptions {
  queue: string;
  concurrency: number;
  out: string;
  /** Milliseconds a job's lock lasts without renewal before the job counts as stalled (default 30 s). */
  lockDuration?: number;
  backend?: string;
  log: (line: string) => void;
  /** The exit code for a second signal, which quits at once (the CLI's). */
  exitCode: (signal: NodeJS.Signals) => number;
}

/** Serves the queue until SIGINT or SIGTERM; resolves to that signal once the running trials finished. */
export async function serveQueue(o: WorkerOptions): Promise<NodeJS.Signals> {
  const connection = await connectRedis(o.queue);
  const runner = new LocalRunner(o.concurrency, { backend: o.backend });
  const lockDuration = o.lockDuration ?? 30_000;
  const name = `${process.pid}`;
  const worker = new Worker<Omit<TrialJob, 'dir'>, TrialResult>(
    QUEUE_NAME,
    async (job) => {
      const data = job.data;
      o.log(
        `worker ${name}: ${data.sweep}/${data.trial} started (attempt ${job.attemptsStarted}${job.stalledCounter ? `, after ${job.stalledCounter} stall${job.stalledCounter === 1 ? '' : 's'}` : ''})`,
      );
      // The trial's lock agrees with the job's: its lease is the lock duration, and a worker that
      // takes over a stalled job whose first worker still runs the trial waits for that run to end.
      const result = await runner.run(
        { ...data, dir: join(o.out, data.sweep), waitForLock: true, lockLease: lockDuration },
        () => {},
      );
      o.log(`worker ${name}: ${data.sweep}/${data.trial} finished in ${result.seconds.toFixed(1)} s`);
      return result;
    },
    {
      connection,
      concurrency: o.concurrency,
      lockDuration,
      stalledInterval: lockDuration,
      // A trial whose workers keep dying is given up after this many stalls (it fails with BullMQ's message).
      maxStalledCount: 5,
    },
  );
  worker.on('failed', (job, err) =>
    o.log(`worker ${name}: ${job?.data.sweep}/${job?.data.trial} failed: ${err.message.split('\n')[0]}`),
  );
  worker.on('error', (err) => o.log(`worker ${name}: ${err.message}`));
  await worker.waitUntilReady();
  o.log(
    `keel worker ${name}: taking trials from '${QUEUE_NAME}' at ${o.queue}, ${o.concurrency} at a time; runs go to ${o.out}/<sweep>/<trial>/ (Ctrl-C: finish the running trials and stop)`,
  );
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  o.log(
    `keel worker ${name}: ${sig} — finishing the running trials (send it again to quit at once; they go back to the queue)`,
  );
  const again = () => process.exit(o.exitCode(sig));
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  await worker.close();
  await runner.close(false);
  connection.disconnect();
  return sig;
}
