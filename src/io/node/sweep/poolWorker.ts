/**
 * The worker process of a sweep's local pool (workerpool, process workers): loads keel's engine with
 * the threads its parent chose (KEEL_THREADS in its environment, 1 by default: one core per trial, so
 * trials do not fight for cores), and runs trials on request, telling the parent when one starts.
 */
import '../engine.js';
import workerpool from 'workerpool';
import { setBackend } from '../../../backend/registry.js';
import { runTrial, type TrialJob } from './trial.js';

if (process.env.KEEL_BACKEND) setBackend(process.env.KEEL_BACKEND);

workerpool.worker({
  runTrial(job: TrialJob) {
    workerpool.workerEmit({ started: job.trial, pid: process.pid });
    return runTrial(job);
  },
});
