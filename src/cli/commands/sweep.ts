/**
 * `keel sweep --config sweep.json [--workers N | --queue redis://host:port]`: runs many trainings —
 * a base config and axes over its fields — into runs/<sweep>/ with a ranked report
 * (io/node/sweep/run.ts); --json prints the ranked trials. A failed trial gives exit code 2, an
 * interrupt 130/143 (the same command finishes the rest).
 */
import type { Command } from 'commander';
import { type Cli, load, logFor } from '../context.js';
import { EXIT, EXIT_CODES, guarded, signalExitCode } from '../exit.js';
import { posInt } from '../flags.js';

/** Registers `keel sweep`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('sweep')
    .description(
      'run many trainings: a base config and axes over its fields; writes runs/<sweep>/ with a ranked report',
    )
    .requiredOption('-c, --config <file>', 'the sweep file (JSON: base, axes, samples, metric)')
    .option('--workers <n>', 'local worker processes (default: the cores)', posInt('--workers'))
    .option('--threads <n>', 'compute threads per local worker (default 1)', posInt('--threads'))
    .option(
      '--queue <url>',
      "run the trials on a BullMQ queue in Redis (redis://host:port) served by 'keel worker'",
    )
    .option('--json', 'print the ranked trials as JSON on stdout')
    .addHelpText(
      'after',
      `
A sweep file:
  { "name": "wd", "base": "run.json",
    "axes": { "optimizer.weightDecay": [0, 0.001, 0.01, 0.1], "seed": [0, 1, 2],
              "optimizer.lr": { "logUniform": [0.01, 0.3] } },
    "samples": 2, "metric": { "name": "testLoss" } }
Grid axes are lists (every value); random axes are { "uniform" | "logUniform" | "int": [lo, hi] } or
{ "choice": [...] }, drawn "samples" times per grid point. Metrics: testAccuracy (default), testLoss,
valAccuracy, valLoss, trainAccuracy, trainLoss, gap (test − train loss), weightNorm (‖w‖).
Running the same command again skips finished trials and runs the rest.
${EXIT_CODES}`,
    )
    .action(
      async (o: { config: string; workers?: number; threads?: number; queue?: string; json?: boolean }) => {
        const [{ loadSweep }, { runSweep }] = await Promise.all([
          load('keel sweep', () => import('../../io/node/runConfig.js')),
          load('keel sweep', () => import('../../io/node/sweep/run.js')),
        ]);
        const sweep = loadSweep(o.config);
        const r = await guarded((signal) =>
          runSweep(sweep, {
            out: cli.out(),
            workers: o.workers,
            threads: o.threads,
            queue: o.queue,
            backend: cli.backend(),
            log: logFor(cli, o.json),
            signal,
          }),
        );
        if (o.json)
          console.log(
            JSON.stringify(
              { sweep: sweep.name, metric: sweep.metric, trials: r.rows, report: r.report },
              null,
              2,
            ),
          );
        if (r.interrupted) {
          console.error(
            `keel: sweep ${r.interrupted}; run the same command again to finish it. Report: ${r.report}`,
          );
          cli.exit(signalExitCode(r.interruptedBy ?? 'SIGINT'));
        } else if (r.failed.length) cli.exit(EXIT.unhealthy);
      },
    );
}
