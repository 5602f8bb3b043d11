/**
 * `keel experiment <name>`: runs one of the chapter's experiments into runs/<name>/
 * (io/node/experiment.ts) and prints its checks; --json prints the result object. A failed check or
 * a diverged training gives exit code 2.
 */
import type { Command } from 'commander';
import { CATALOG } from '../../experiments/catalog.js';
import { divergenceAdvice, divergenceSentence } from '../../run/end.js';
import { type Cli, load, logFor } from '../context.js';
import { EXIT, EXIT_CODES, guarded } from '../exit.js';
import { DATA_HELP, type DivergenceFlags, divergenceFlags, divergenceOf, int, posInt } from '../flags.js';

type ExperimentFlags = DivergenceFlags & {
  seed: number;
  seeds?: number;
  quick?: boolean;
  download?: boolean;
  json?: boolean;
};

/** Registers `keel experiment`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  divergenceFlags(
    program
      .command('experiment')
      .description(`run one of the chapter's experiments: ${CATALOG.map((e) => e.name).join(', ')}`)
      .argument('<name>', 'experiment name')
      .option('--seed <n>', 'random seed', int('--seed'), 0)
      .option(
        '--seeds <n>',
        'how many seeds (seed, seed + 1, …) best-mlp and perturbation run (default: 1 and 3)',
        posInt('--seeds'),
      )
      .option('--quick', 'the short version (fewer epochs and samples), as in the tests')
      .option('--download', 'download Fashion-MNIST if it is not found')
      .option('--json', 'print the result object as JSON on stdout'),
  )
    .addHelpText(
      'after',
      `\nExperiments:\n${CATALOG.map((e) => `  ${e.name.padEnd(17)}${e.description}`).join('\n')}\n${DATA_HELP}\n${EXIT_CODES}`,
    )
    .action(async (name: string, o: ExperimentFlags) => {
      const [{ findExperiment }, { runExperiment }] = await Promise.all([
        load('keel experiment', () => import('../../experiments/index.js')),
        load('keel experiment', () => import('../../io/node/experiment.js')),
      ]);
      const e = findExperiment(name);
      const divergence = divergenceOf(o);
      const r = await guarded((signal) =>
        runExperiment(e, {
          out: cli.out(),
          seed: o.seed,
          seeds: o.seeds,
          quick: Boolean(o.quick),
          download: Boolean(o.download),
          log: logFor(cli, o.json),
          signal,
          divergence,
        }),
      );
      if (o.json)
        console.log(
          JSON.stringify(
            {
              name: e.name,
              checks: r.result.checks,
              settings: r.result.settings,
              result: r.result.result,
              report: r.report,
            },
            null,
            2,
          ),
        );
      for (const d of r.result.diverged ?? [])
        console.error(
          `keel: ${d.run}: training ${divergenceSentence(d.divergence)}. Try ${divergenceAdvice()}.`,
        );
      const failed = r.result.checks.filter((c) => !c.passed).length;
      if (failed)
        console.error(`keel: ${failed} of ${r.result.checks.length} checks failed. Report: ${r.report}`);
      if (failed || r.result.diverged?.length) cli.exit(EXIT.unhealthy);
    });
}
