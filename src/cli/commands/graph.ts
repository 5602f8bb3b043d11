/**
 * `keel graph --config run.json`: writes the computational graph of the configured model as DOT,
 * Mermaid and SVG into runs/<name>-graph/ (io/node/graph.ts).
 */
import type { Command } from 'commander';
import { type Cli, load } from '../context.js';
import { posInt } from '../flags.js';

/** Registers `keel graph`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('graph')
    .description('write the computational graph of a configured model as DOT, Mermaid and SVG')
    .option('-c, --config <file>', 'run configuration (JSON)')
    .option('--batch <n>', 'batch size of the traced pass (default: min(batchSize, 8))', posInt('--batch'))
    .action(async (o: { config?: string; batch?: number }) => {
      const [{ loadConfig }, { writeGraph }] = await Promise.all([
        load('keel graph', () => import('../../io/node/runConfig.js')),
        load('keel graph', () => import('../../io/node/graph.js')),
      ]);
      await writeGraph(loadConfig(o.config, {}), { out: cli.out(), batch: o.batch, log: cli.log });
    });
}
