/**
 * The worker process of a sweep's local pool (workerpool, process workers): loads keel's engine with
 * the threads its parent chose (KEEL_THREADS in its environment, 1 by default: one core per trial, so
 * trials do not fight for cores) and the parent's backend (KEEL_BACKEND; webgpu started first), and
 * runs trials on request, telling the parent when one starts.
 */
import workerpool from 'workerpool';
import { startBackend } from '../engine.js';
import { runTrial, type TrialJob } from './trial.js';

// The parent's --backend, started as keel's own start-up does it; a failure to start is each
// trial's error (a line, not a dead worker).
const ready = process.env.KEEL_BACKEND ? startBackend(process.env.KEEL_BACKEND) : Promise.resolve();
ready.catch(() => {});

workerpool.worker({
  async runTrial(job: TrialJob) {
    await ready;
    workerpool.workerEmit({ started: job.trial, pid: process.pid });
    return runTrial(job);
  },
});
