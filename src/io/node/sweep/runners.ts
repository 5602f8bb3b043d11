/**
 * Where a sweep's trials run. A runner takes a trial, says when it starts, and resolves to its
 * result (or rejects with its error):
 * - `LocalRunner` (here): a pool of worker processes on this machine (npm workerpool, process
 *   workers running poolWorker.js), one trial per process at a time with KEEL_THREADS=1, so N
 *   workers use N cores without fighting over them; a worker that dies takes only its trial down
 *   (workerpool starts a fresh process for the next). When the workers' threads fill the cores, a
 *   worker runs V8 without its helper threads (`--single-threaded`): their collector and compiler
 *   work would otherwise run on the cores the other trials compute on (bench/NOTES.md).
 * - `QueueRunner` (queueRunner.ts, loaded only for `--queue`): trials as jobs on a BullMQ queue.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import type { TrialResult } from '../../../sweep/results.js';
import type { TrialJob } from './trial.js';

/** Runs trials somewhere. */
export interface TrialRunner {
  /** Runs `job`, calling `onStart` when a worker takes it. */
  run(job: TrialJob, onStart: () => void): Promise<TrialResult>;
  /** Stops: `force` kills running trials (they resume from their checkpoints next time). */
  close(force: boolean): Promise<void>;
  readonly description: string;
}

/** The worker script next to this module (dist/io/node/sweep/poolWorker.js). */
const WORKER_SCRIPT = fileURLToPath(new URL('./poolWorker.js', import.meta.url));

/** A pool of `workers` processes with `threads` compute threads each. */
export class LocalRunner implements TrialRunner {
  private readonly pool: ReturnType<typeof workerpool.pool>;
  readonly description: string;
  constructor(workers: number, o: { threads?: number; backend?: string } = {}) {
    const threads = o.threads ?? 1;
    const env: Record<string, string | undefined> = {
      ...process.env,
      KEEL_THREADS: String(threads),
      OPENBLAS_NUM_THREADS: String(threads),
    };
    if (o.backend) env.KEEL_BACKEND = o.backend;
    // Cores all taken by trials: V8's helper threads would only compete with them.
    const full = workers * threads >= availableParallelism();
    this.pool = workerpool.pool(WORKER_SCRIPT, {
      workerType: 'process',
      maxWorkers: workers,
      // The trials' logs go to their log.txt; a worker's stray output would garble the progress.
      forkOpts: {
        env,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        execArgv: full ? [...process.execArgv, '--single-threaded'] : process.execArgv,
      },
    });
    this.description = `${workers} local worker process${workers === 1 ? '' : 'es'}, ${threads} thread${threads === 1 ? '' : 's'} each`;
  }
  run(job: TrialJob, onStart: () => void): Promise<TrialResult> {
    return this.pool.exec('runTrial', [job], {
      on: (p: { started?: string }) => {
        if (p.started) onStart();
      },
    }) as unknown as Promise<TrialResult>;
  }
  async close(force: boolean): Promise<void> {
    await this.pool.terminate(force);
  }
}

/** The queue's name in Redis. */
export const QUEUE_NAME = 'keel-sweep';
