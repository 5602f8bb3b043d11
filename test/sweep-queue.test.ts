/**
 * A sweep across machines, for real: the test starts Debian's redis-server on 127.0.0.1 and a free
 * port, two built `keel worker` processes, and `keel sweep --queue`; it SIGKILLs one worker in the
 * middle of its first trial. Every trial must complete exactly once (BullMQ's stalled-job check
 * hands the killed trial to the other worker), with the same metrics as the trial run alone; the
 * surviving worker stops gracefully on SIGTERM; Redis is shut down at the end. And a stalled job
 * whose first worker still runs its trial (that worker frozen with SIGSTOP, so it stops renewing
 * the job's lock, its trial process running on): the worker that takes the job over waits on the
 * trial's run directory lock instead of running it a second time at once; the frozen worker is then
 * SIGKILLed while the other holds the job's lease, and the trial ends once, each epoch once. Skipped, saying so,
 * where redis-server is absent — except in CI (KEEL_CI=1, set by .ci/run, which installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../src/io/node/sweep/runners.js';
import { runTraining } from '../src/io/node/train.js';
import { parseSweep } from '../src/sweep/spec.js';
import { keel, type Run } from './keel-process.js';
import { needs, REDIS_SERVER } from './requires.js';

const REDIS = REDIS_SERVER;
const hasRedis = needs('redis-server', 'sweep-queue.test');

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-queue-'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts redis-server; resolves once it accepts connections. */
function startRedis(port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(REDIS, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ]);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.on('error', reject);
  });
}

/** A running `keel worker`: its process, its output so far and its exit. */
function startWorker(out: string, url: string) {
  const w: { child?: ChildProcess; stdout: string; stderr: string; done: Promise<Run> } = {
    stdout: '',
    stderr: '',
    done: Promise.resolve() as unknown as Promise<Run>,
  };
  w.done = keel(['--out', out, 'worker', '--queue', url, '--lock-duration', '1000'], {
    timeout: 180_000,
    onSpawn: (c) => {
      w.child = c;
      c.stderr?.on('data', (d) => {
        w.stderr += d;
      });
    },
    onStdout: (text) => {
      w.stdout = text;
    },
  });
  return w;
}

const until = async (what: string, cond: () => boolean, ms = 30_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe.skipIf(!hasRedis)('keel sweep --queue (BullMQ on a real Redis)', () => {
  let redis: ChildProcess | undefined;
  afterAll(async () => {
    if (!redis) return;
    const gone = new Promise((r) => redis?.on('exit', r));
    redis.kill('SIGTERM');
    await gone;
  });

  it('a worker SIGKILLed mid-trial: every trial completes exactly once, with the results of running it alone', async () => {
    const dir = tmp();
    const port = await freePort();
    redis = await startRedis(port, dir);
    const url = `redis://127.0.0.1:${port}`;
    const out = join(dir, 'runs');
    const file = join(dir, 'sweep.json');
    const sweep = {
      name: 'q',
      base: {
        epochs: 6,
        data: { dataset: 'moons', samples: 1000, batchSize: 32, validation: 0.2 },
        model: { hidden: [16] },
        optimizer: { name: 'adam', lr: 0.01 },
      },
      axes: { 'optimizer.weightDecay': [0, 0.01, 0.1, 1], seed: [0, 1] },
      metric: { name: 'testLoss' },
    };
    writeFileSync(file, JSON.stringify(sweep));
    const a = startWorker(out, url);
    const b = startWorker(out, url);
    await until('two workers', () => /taking trials/.test(a.stdout) && /taking trials/.test(b.stdout));
    const run = keel(['--out', out, 'sweep', '--config', file, '--queue', url, '--json'], {
      timeout: 180_000,
    });
    // Kill worker A in the middle of the first trial it takes.
    await until('worker A to start a trial', () => / started /.test(a.stdout));
    const killedTrial = /q\/(t\d+) started/.exec(a.stdout)?.[1];
    a.child?.kill('SIGKILL');
    const ra = await a.done;
    expect(ra.signal).toBe('SIGKILL');
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const trials = JSON.parse(r.stdout).trials as {
      trial: string;
      state: string;
      metrics: { testLoss: number };
    }[];
    expect(trials.length).toBe(8);
    expect(trials.every((t) => t.state === 'done')).toBe(true);
    // The killed trial went to worker B after the stall, and finished there; A finished nothing.
    expect(killedTrial).toMatch(/^t\d{3}$/);
    expect(a.stdout).not.toMatch(/finished in/);
    expect(b.stdout).toMatch(new RegExp(`q/${killedTrial} started \\(attempt \\d+, after 1 stall\\)`));
    // Exactly once: one "finished" per trial across the workers, 8 completed jobs and no failed one.
    for (const t of trials) expect(b.stdout.match(new RegExp(`q/${t.trial} finished`, 'g'))?.length).toBe(1);
    const conn = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: conn });
    expect(await queue.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({
      completed: 8,
      failed: 0,
      active: 0,
      wait: 0,
    });
    await queue.close();
    conn.disconnect();
    // The same metrics as each trial alone (the killed one among them).
    const s = parseSweep(JSON.parse(readFileSync(join(out, 'q', 'sweep.json'), 'utf8')));
    for (const t of s.trials.filter((x, i) => x.name === killedTrial || i % 4 === 1)) {
      const alone = await runTraining(t.config, {
        out: tmp(),
        log: () => {},
        tty: false,
        diagnostics: false,
      });
      const last = alone.history.epochs[alone.history.epochs.length - 1];
      expect(trials.find((x) => x.trial === t.name)?.metrics.testLoss).toBe(last.testLoss);
    }
    // The local copy of each result, and the report.
    expect(existsSync(join(out, 'q', 't007', 'result.json'))).toBe(true);
    expect(readFileSync(join(out, 'q', 'report.html'), 'utf8')).toContain('All 8 trials finished.');
    // SIGTERM: the idle worker stops gracefully.
    b.child?.kill('SIGTERM');
    const rb = await b.done;
    expect(rb.code).toBe(143);
    expect(b.stdout).toMatch(/SIGTERM — finishing the running trials/);
  }, 240_000);

  it('a stalled job whose first worker still runs the trial: the next worker waits for it, never runs it twice at once', async () => {
    const dir = tmp();
    redis ??= await startRedis(await freePort(), dir);
    const port = Number(redis.spawnargs[redis.spawnargs.indexOf('--port') + 1]);
    const url = `redis://127.0.0.1:${port}`;
    const out = join(dir, 'runs');
    const file = join(dir, 'sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'stall',
        base: {
          // Long enough (~7 s of training here) to outlast B's start and the stall detection: with
          // 4,000 samples the compiled steps finished all 200 epochs (~1.5 s) before B took the job.
          epochs: 200,
          data: { dataset: 'moons', samples: 20000, batchSize: 16 },
          model: { hidden: [64, 64] },
        },
        axes: { seed: [0] },
      }),
    );
    const a = startWorker(out, url);
    await until('worker A', () => /taking trials/.test(a.stdout));
    const run = keel(['--out', out, 'sweep', '--config', file, '--queue', url, '--json'], {
      timeout: 180_000,
    });
    await until('worker A to start the trial', () => /stall\/t000 started/.test(a.stdout));
    await until('the trial to be under way in A’s trial process', () =>
      existsSync(join(out, 'stall', 't000', 'checkpoint.safetensors')),
    );
    // A stops renewing the job's lock (its trial process, a child of its own, runs on).
    a.child?.kill('SIGSTOP');
    const b = startWorker(out, url);
    await until('worker B to take the stalled job', () =>
      /stall\/t000 started \(attempt \d+, after 1 stall\)/.test(b.stdout),
    );
    await until('worker B to wait for the trial’s directory', () =>
      /stall\/t000: waiting — .* is in use by another keel process/.test(b.stderr),
    ).catch((e) => {
      throw new Error(`${e.message}\nA: ${a.stdout}\n${a.stderr}\nB: ${b.stdout}\n${b.stderr}`);
    });
    // A dies while B holds the job's lease: B takes the trial's directory over (or its finished result).
    a.child?.kill('SIGKILL');
    await a.done;
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(b.stdout).toMatch(/stall\/t000 finished/);
    const metrics = readFileSync(join(out, 'stall', 't000', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; epoch?: number });
    const epochs = metrics.filter((m) => m.type === 'epoch').map((m) => m.epoch);
    expect(epochs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(metrics.filter((m) => m.type === 'start')).toHaveLength(1);
    b.child?.kill('SIGTERM');
    await b.done;
  }, 240_000);
});
