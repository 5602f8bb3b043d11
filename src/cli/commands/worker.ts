/**
 * `keel worker --queue redis://host:port`: serves a sweep's BullMQ queue (io/node/sweep/queueWorker.ts)
 * until SIGINT or SIGTERM, then ends with that signal's exit code once its running trials finished.
 */
import type { Command } from 'commander';
import { type Cli, load } from '../context.js';
import { signalExitCode } from '../exit.js';
import { posInt } from '../flags.js';

/** Registers `keel worker`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('worker')
    .description(
      'take sweep trials from a BullMQ queue in Redis and run them (keel sweep --queue puts them there)',
    )
    .requiredOption('--queue <url>', 'the Redis server: redis://host:port')
    .option(
      '--concurrency <n>',
      'trials at a time, one process and thread each (default 1)',
      posInt('--concurrency'),
      1,
    )
    .option(
      '--lock-duration <ms>',
      'how long a silent worker keeps a trial before another takes it over (default 30000)',
      posInt('--lock-duration'),
    )
    .action(async (o: { queue: string; concurrency: number; lockDuration?: number }) => {
      const { serveQueue } = await load('keel worker', () => import('../../io/node/sweep/queueWorker.js'));
      const signal = await serveQueue({
        queue: o.queue,
        concurrency: o.concurrency,
        lockDuration: o.lockDuration,
        out: cli.out(),
        backend: cli.backend(),
        log: cli.log,
        exitCode: signalExitCode,
      });
      cli.exit(signalExitCode(signal));
    });
}
