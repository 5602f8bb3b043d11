#!/usr/bin/env node
/**
 * The `keel` command line. Parses arguments with commander and dispatches to the subcommands;
 * every subcommand lives in its own file under cli/.
 */
import { Command } from 'commander';
import { runDemo } from './demo.js';

const program = new Command();
program
  .name('keel')
  .description('Deep learning in TypeScript that trains stably and generalizes')
  .version('0.1.0');

program
  .command('demo')
  .description('a short tour: fit an MLP with autograd, gradcheck it, measure graph memory, export the graph')
  .option('--out <dir>', 'where to write the graph files', 'runs/demo')
  .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 0)
  .action((o: { out: string; seed: number }) => {
    runDemo({ outDir: o.out, seed: o.seed, log: (l) => console.log(l) });
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? `keel: ${e.message}` : e);
  process.exit(1);
});
