/**
 * Where a sweep's trials run. Both runners take a trial, say when it starts, and resolve to its
 * result (or reject with its error):
 * - `LocalRunner`: a pool of worker processes on this machine (npm workerpool, process workers
 *   running poolWorker.js), one trial per process at a time with KEEL_THREADS=1, so N workers use N
 *   cores without fighting over them; a worker that dies takes only its trial down (workerpool
 *   starts a fresh process for the next).
 * - `QueueRunner`: trials as jobs on a BullMQ queue in Redis (`keel-sweep`), run by `keel worker`
 *   processes on any machine. A job's id is the sweep, the trial and a hash of its configuration, so
 *   adding it again (a re-run of the sweep command) finds the same job — a finished one gives its
 *   result back at once — and a changed trial is a new job. Results travel back as the job's return
 *   value in Redis; the artifacts (report, checkpoint, metrics) stay in the worker's --out directory:
 *   point every worker at one shared directory (NFS) to have them side by side. Files are too big
 *   for Redis, which holds everything in memory.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import workerpool from 'workerpool';
import type { TrialResult } from '../../../sweep/results.js';
import { KeelError } from '../../../util/errors.js';
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
    this.pool = workerpool.pool(WORKER_SCRIPT, {
      workerType: 'process',
      maxWorkers: workers,
      // The trials' logs go to their log.txt; a worker's stray output would garble the progress.
      forkOpts: { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
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

/** A Redis connection from a redis:// URL, checked with a PING (an unreachable server is one clear error). */
export async function connectRedis(url: string): Promise<Redis> {
  if (!/^rediss?:\/\//.test(url))
    throw new KeelError(`--queue must be a redis:// or rediss:// URL, got '${url}'`);
  // maxRetriesPerRequest null: BullMQ's blocking commands must wait, not fail, while Redis reconnects.
  const r = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  r.on('error', () => {}); // reported by the checks below and by BullMQ; ioredis would print each retry
  try {
    await Promise.race([
      r.connect().then(() => r.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new KeelError('no answer in 5 s')), 5000)),
    ]);
  } catch (e) {
    r.disconnect();
    throw new KeelError(
      `cannot reach Redis at ${url}: ${(e as Error).message} (is redis-server running there?)`,
    );
  }
  return r;
}

/** The job id of a trial: sweep, trial and a hash of what it runs. */
export function jobId(job: Omit<TrialJob, 'dir'>): string {
  const h = createHash('sha1')
    .update(JSON.stringify({ p: job.params, c: job.config }))
    .digest('hex')
    .slice(0, 12);
  return `${job.sweep}.${job.trial}.${h}`;
}

/** Trials as BullMQ jobs, run by `keel worker`s. */
export class QueueRunner implements TrialRunner {
  readonly description: string;
  private constructor(
    private readonly connection: Redis,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly starts: Map<string, () => void>,
    url: string,
  ) {
    this.description = `the BullMQ queue '${QUEUE_NAME}' at ${url} (run 'keel worker --queue ${url}' on each machine)`;
  }

  static async open(url: string): Promise<QueueRunner> {
    const connection = await connectRedis(url);
    const queue = new Queue(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection: connection.duplicate() });
    await events.waitUntilReady();
    const starts = new Map<string, () => void>();
    events.on('active', ({ jobId: id }) => starts.get(id)?.());
    return new QueueRunner(connection, queue, events, starts, url);
  }

  async run(job: TrialJob, onStart: () => void): Promise<TrialResult> {
    const { dir: _local, ...data } = job;
    const id = jobId(data);
    const existing = await this.queue.getJob(id);
    const state = existing ? await existing.getState() : null;
    if (existing && state === 'completed') {
      onStart();
      return existing.returnvalue as TrialResult;
    }
    // A failed job keeps its id: take it away so that the re-run gets a fresh one.
    if (existing && state === 'failed') await existing.remove();
    this.starts.set(id, onStart);
    const j =
      existing && state !== 'failed'
        ? existing
        : await this.queue.add(job.sweep, data, {
            jobId: id,
            // Training errors are deterministic: no retry. A worker that dies is another matter:
            // its job stalls and goes back to the queue (the workers' maxStalledCount).
            attempts: 1,
            removeOnComplete: { age: 7 * 24 * 3600 },
            removeOnFail: { age: 7 * 24 * 3600 },
          });
    if (state === 'active') onStart();
    try {
      return (await j.waitUntilFinished(this.events)) as TrialResult;
    } finally {
      this.starts.delete(id);
    }
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    this.connection.disconnect();
  }
}
