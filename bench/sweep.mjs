// The sweep's targets, measured on this machine:
// 1. 8 trials, wall time of `keel sweep` with one worker per core against running the same 8 trials
//    one after another: as 8 `keel train` commands (what a user of the CLI does), in one process
//    calling runTraining (io/node/train.ts) 8 times (what a script does; keel's default threads in
//    both), and as `keel sweep --workers 1`. Target: ≤ 0.6× one after another.
// 2. Queue overhead on localhost: from queue.add to the start of the job's processor in a worker
//    process that is idle and waiting (BullMQ on a redis-server this script starts), and from there
//    to the trial starting in keel's worker child process (workerpool IPC). Target: < 50 ms.
// Run: npm run build && node bench/sweep.mjs [trials=8] [epochs=2] [fashion|moons|moons-wide]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../dist/io/node/engine.js';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { findFashionMnist } from '../dist/io/node/index.js';
import { LocalRunner } from '../dist/io/node/sweep/runners.js';
import { runTraining } from '../dist/io/node/train.js';
import { parseSweep } from '../dist/sweep/spec.js';

const trials = Number(process.argv[2] ?? 8);
const epochs = Number(process.argv[3] ?? 2);
const which = process.argv[4] ?? 'fashion'; // 'fashion' or 'moons'
const root = new URL('..', import.meta.url).pathname;
const KEEL = join(root, 'dist/cli/keel.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'keel-bench-sweep-'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// Trials: the D2L MLP on the 60,000 Fashion-MNIST images (or moons with 20,000 points without the data).
const fashion = which === 'fashion' && findFashionMnist();
const base = fashion
  ? { epochs, data: { dataset: 'fashion-mnist', batchSize: 256 }, model: { hidden: [256] } }
  : {
      epochs,
      data: { dataset: 'moons', samples: 20000, batchSize: 64 },
      model: { hidden: which === 'moons-wide' ? [512, 512] : [64, 64] },
    };
const seeds = Array.from({ length: trials / 2 }, (_, i) => i);
const spec = { name: 'bench', base, axes: { 'optimizer.weightDecay': [0, 0.001], seed: seeds } };
const sweep = parseSweep(spec);
console.log(
  `${trials} trials of ${fashion ? 'the 784-256-10 MLP on 60,000 Fashion-MNIST images' : `a 2-${base.model.hidden.join('-')}-2 MLP on 20,000 moons points`}, ${epochs} epochs each; ${availableParallelism()} cores`,
);

// 1a. One after another, as keel train commands (default threads).
let t0 = performance.now();
for (const t of sweep.trials) {
  const dir = tmp();
  const file = join(dir, 'run.json');
  writeFileSync(file, JSON.stringify(t.config));
  const r = spawnSync(process.execPath, [KEEL, '--out', dir, 'train', '--config', file, '--no-diagnostics'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr || r.stdout);
}
const commands = (performance.now() - t0) / 1000;
console.log(`one after another, ${trials} keel train commands, default threads: ${commands.toFixed(1)} s`);

// 1b. One after another, in this process (default threads).
t0 = performance.now();
for (const t of sweep.trials)
  await runTraining(t.config, { out: tmp(), log: () => {}, tty: false, diagnostics: false });
const sequential = (performance.now() - t0) / 1000;
console.log(`one after another, one process, default threads: ${sequential.toFixed(1)} s`);

// 1c/1d. keel sweep with 1 worker and with one per core.
function sweepWall(workers) {
  const dir = tmp();
  const file = join(dir, 'sweep.json');
  writeFileSync(file, JSON.stringify(spec));
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    [KEEL, '--out', dir, 'sweep', '--config', file, '--workers', String(workers)],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr || r.stdout);
  return (performance.now() - t) / 1000;
}
const one = sweepWall(1);
console.log(`keel sweep --workers 1: ${one.toFixed(1)} s`);
const cores = availableParallelism();
const parallel = sweepWall(cores);
console.log(`keel sweep --workers ${cores}: ${parallel.toFixed(1)} s`);
console.log(
  `ratio: ${(parallel / commands).toFixed(2)}× ${trials} keel train commands, ${(parallel / sequential).toFixed(2)}× one process, ${(parallel / one).toFixed(2)}× --workers 1 (target ≤ 0.6)`,
);

// 2. Queue overhead.
const REDIS = '/usr/bin/redis-server';
if (!existsSync(REDIS)) {
  console.log('queue overhead: skipped (no redis-server; apt-get install redis-server)');
  process.exit(0);
}
const port = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const redis = spawn(REDIS, [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  tmp(),
]);
await new Promise((resolve) =>
  redis.stdout.on('data', (d) => String(d).includes('Ready to accept') && resolve()),
);
const connection = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: null });
const queue = new Queue('bench', { connection });
const workerConnection = connection.duplicate();
const pickups = [];
let next = null;
const worker = new Worker(
  'bench',
  async (job) => {
    pickups.push(Date.now() - job.data.at);
    next?.();
  },
  { connection: workerConnection },
);
await worker.waitUntilReady();
await new Promise((r) => setTimeout(r, 200));
for (let i = 0; i < 50; i++) {
  const done = new Promise((r) => {
    next = r;
  });
  await queue.add('j', { at: Date.now() });
  await done;
  await new Promise((r) => setTimeout(r, 20)); // the worker is idle again, blocked waiting
}
console.log(
  `queue pickup (add → processor start on an idle worker): median ${median(pickups)} ms, max ${Math.max(...pickups)} ms over 50 jobs`,
);
// From the processor to the trial starting in keel's worker child process (the pool already warm).
const pool = new LocalRunner(1);
const tiny = parseSweep({ base: { epochs: 1, data: { dataset: 'moons', samples: 50 } }, axes: { seed: [0] } })
  .trials[0];
const ipc = [];
for (let i = 0; i < 11; i++) {
  const t = performance.now();
  let started = 0;
  await pool.run({ sweep: 'b', trial: `x${i}`, params: {}, config: tiny.config, dir: tmp() }, () => {
    started = performance.now();
  });
  if (i > 0) ipc.push(started - t); // the first call starts the process
}
console.log(`processor → trial started in the worker's child process: median ${median(ipc).toFixed(1)} ms`);
console.log(`enqueue → trial start: about ${(median(pickups) + median(ipc)).toFixed(1)} ms (target < 50 ms)`);
await pool.close(false);
await worker.close();
await queue.close();
connection.disconnect();
workerConnection.disconnect();
redis.kill('SIGTERM');
process.exit(0);
