/**
 * `keel shift --config run.json | --checkpoint runs/<name> --target <spec>`: is the target data
 * shifted from the training data? Registers the flags and runs the analysis (io/node/shift.ts);
 * --json prints its result. The exit code is 0 whether or not a shift is found (1 on errors).
 */
import type { Command } from 'commander';
import type { ShiftRunOptions } from '../../io/node/shift.js';
import { type Cli, load, logFor } from '../context.js';
import { guarded } from '../exit.js';
import { DATA_HELP, int, posInt } from '../flags.js';

type ShiftFlags = Omit<ShiftRunOptions, 'config' | 'out' | 'log' | 'tty' | 'signal'> & {
  config?: string;
  json?: boolean;
};

/** Registers `keel shift`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('shift')
    .description(
      'is the target data shifted from the training data? tests, estimated priors and weights, corrected accuracy',
    )
    .option('-c, --config <file>', 'train the model from this run configuration (JSON)')
    .option('--checkpoint <run>', 'or load it from a run directory (runs/<name>) or its checkpoint file')
    .requiredOption(
      '--target <spec>',
      "the target: 'test', 'train', '<dataset>[:train|:test]', or a file (IDX, PNG directory, .npy, .json)",
    )
    .option(
      '--target-labels <file>',
      "IDX labels of a file target (to measure the accuracy it's corrected to)",
    )
    .option(
      '--shift <spec>',
      'shift a data set target on purpose: none, dirichlet:<α>, tweak-one:<class>:<ρ>, brightness:<s>, feature:<j>:<s>',
    )
    .option(
      '--target-size <n>',
      'samples drawn for a data set target (default 2000)',
      posInt('--target-size'),
    )
    .option('--target-seed <n>', 'seed of the target draw and the tests (default 0)', int('--target-seed'))
    .option('--retrain', 'also retrain the model with importance weights and compare target accuracy')
    .option('--name <name>', 'run directory name (default shift-<config name>, or shift)')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
The held-out labelled source data is the run's validation split (a config without one holds out
10%); a run without one uses half of its test split. The verdict: shifted when a test's p-value is
below α/3 (Bonferroni over the label χ², MMD and classifier tests, α = 0.05). The exit code is 0
whether or not a shift is found.
${DATA_HELP}`,
    )
    .action(async (o: ShiftFlags) => {
      const [{ loadConfig }, { runShift }, { shiftResultJson }] = await Promise.all([
        load('keel shift', () => import('../../io/node/runConfig.js')),
        load('keel shift', () => import('../../io/node/shift.js')),
        load('keel shift', () => import('../../report/shift.js')),
      ]);
      const r = await guarded((signal) =>
        runShift({
          ...o,
          config: o.config ? loadConfig(o.config, {}) : undefined,
          out: cli.out(),
          log: logFor(cli, o.json),
          signal,
        }),
      );
      if (o.json)
        console.log(
          JSON.stringify(
            { target: r.target, ...shiftResultJson(r.analysis, r.retrained), report: r.report },
            null,
            2,
          ),
        );
    });
}
