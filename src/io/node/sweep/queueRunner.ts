/**
 * `QueueRunner`: a sweep's trials as jobs on a BullMQ queue in Redis (`keel-sweep`), run by
 * `keel worker` processes on any machine. A job's id is the sweep, the trial and a hash of its
 * configuration, so adding it again (a re-run of the sweep command) finds the same job — a finished
 * one gives its result back at once — and a changed trial is a new job. Results travel back as the
 * job's return value in Redis; the artifacts (report, checkpoint, metrics) stay in the worker's --out
 * directory: point every worker at one shared directory (NFS) to have them side by side. Files are
 * too big for Redis, which holds everything in memory. Loaded only for `--queue` and `keel worker`
 * (BullMQ and ioredis take ~0.15 s to import).
 */
import { createHash } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { TrialResult } from '../../../sweep/results.js';
import { KeelError } from '../../../util/errors.js';
import { QUEUE_NAME, type TrialRunner } from './runners.js';
import type { TrialJob } from './trial.js';

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
