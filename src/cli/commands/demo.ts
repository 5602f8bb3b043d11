/**
 * `keel demo` (what `npm start` runs): the tour of the chapter (io/node/demo.ts); a failed check gives
 * exit code 2, an interrupt 130/143 after the index of what finished is written.
 */
import type { Command } from 'commander';
import { type Cli, load } from '../context.js';
import { EXIT, EXIT_CODES, guarded } from '../exit.js';
import { DATA_HELP, type DivergenceFlags, divergenceFlags, divergenceOf, int } from '../flags.js';

type DemoFlags = DivergenceFlags & { seed: number; quick?: boolean; full?: boolean; download?: boolean };

/** Registers `keel demo`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  divergenceFlags(
    program
      .command('demo')
      .description(
        'a tour of the chapter: its experiments as the book sets them (about 1–2 minutes on 2 cores)',
      )
      .option('--seed <n>', 'random seed', int('--seed'), 0)
      .option('--quick', 'short versions of the Fashion-MNIST experiments (about 15 s), labelled as such')
      .option(
        '--full',
        'also best-mlp (one seed, 120 epochs, ~10 minutes) and the shift and perturbation experiments in full (~20 minutes)',
      )
      .option('--download', 'download Fashion-MNIST if it is not found'),
  )
    .addHelpText('after', `${DATA_HELP}\n${EXIT_CODES}`)
    .action(async (o: DemoFlags) => {
      const divergence = divergenceOf(o);
      const { runDemo } = await load('keel demo', () => import('../../io/node/demo.js'));
      const r = await guarded((signal) =>
        runDemo({
          out: cli.out(),
          seed: o.seed,
          quick: Boolean(o.quick),
          full: Boolean(o.full),
          download: Boolean(o.download),
          log: cli.log,
          signal,
          divergence,
        }),
      );
      if (r.aborted) throw r.aborted;
      if (r.passed < r.total) cli.exit(EXIT.unhealthy);
    });
}
