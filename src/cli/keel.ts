#!/usr/bin/env node
/**
 * The `keel` command line (commander): train, experiment, graph, demo. Each subcommand lives in
 * cli/commands/. Errors print as one clear message (exit code 1), not a stack trace.
 */
import '../io/node/engine.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { setBackend } from '../backend/registry.js';
import { EXPERIMENTS } from '../experiments/index.js';
import { KeelError } from '../util/errors.js';
import { demoCommand } from './commands/demo.js';
import { diagnoseCommand } from './commands/diagnose.js';
import { experimentCommand, findExperiment } from './commands/experiment.js';
import { graphCommand } from './commands/graph.js';
import { loadConfig, trainCommand } from './commands/train.js';
import type { Overrides } from './config.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
  return n;
};

const program = new Command();
program
  .name('keel')
  .description('Deep learning in TypeScript that trains stably and generalizes')
  .version('0.1.0')
  .option('--out <dir>', 'where run directories are written', 'runs')
  .addOption(
    new Option('--backend <name>', 'kernel backend (default: wasm where WebAssembly SIMD runs, else js)')
      .choices(['js', 'wasm'])
      .env('KEEL_BACKEND'),
  )
  .hook('preAction', () => {
    const b = program.opts<{ backend?: string }>().backend;
    if (b) setBackend(b);
  });

const log = (line: string) => console.log(line);
const outDir = () => program.opts<{ out: string }>().out;

program
  .command('train')
  .description('train a model from a JSON config (flags override it); writes runs/<name>/')
  .option('-c, --config <file>', 'run configuration (JSON)')
  .option('--name <name>', 'run name')
  .option('--seed <n>', 'random seed', int('--seed'))
  .option('--epochs <n>', 'epochs', int('--epochs'))
  .option('--lr <x>', 'learning rate', num('--lr'))
  .option('--batch-size <n>', 'batch size', int('--batch-size'))
  .option('--weight-decay <x>', 'weight decay λ', num('--weight-decay'))
  .option('--dropout <p>', 'dropout probability for every hidden layer', num('--dropout'))
  .addOption(
    new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad']),
  )
  .option('--limit <n>', 'use only the first n samples of each split', int('--limit'))
  .option('--download', 'download Fashion-MNIST if it is not found')
  .option('--json', 'print the history as JSON on stdout')
  .option('--no-diagnostics', 'do not watch gradients and activations')
  .option(
    '--diagnostics-every <n>',
    'diagnostics sampling period in steps (default 25)',
    int('--diagnostics-every'),
  )
  .action(
    async (
      o: Overrides & { config?: string; json?: boolean; diagnostics: boolean; diagnosticsEvery?: number },
    ) => {
      const config = loadConfig(o.config, o);
      const r = await trainCommand(config, {
        out: outDir(),
        log: o.json ? (l) => console.error(l) : log,
        diagnostics: o.diagnostics,
        diagnosticsEvery: o.diagnosticsEvery,
      });
      if (o.json)
        console.log(JSON.stringify({ config: r.config, history: r.history, report: r.report }, null, 2));
    },
  );

program
  .command('experiment')
  .description(`run one of the chapter's experiments: ${EXPERIMENTS.map((e) => e.name).join(', ')}`)
  .argument('<name>', 'experiment name')
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .option('--quick', 'the short version (fewer epochs and samples), as in the tests')
  .option('--download', 'download Fashion-MNIST if it is not found')
  .option('--json', 'print the result object as JSON on stdout')
  .addHelpText(
    'after',
    `\nExperiments:\n${EXPERIMENTS.map((e) => `  ${e.name.padEnd(17)}${e.description}`).join('\n')}\n\nFashion-MNIST is read from $KEEL_DATA, ~/.cache/keel or /usr/share/datasets/fashion-mnist\n(Debian: apt-get install dataset-fashion-mnist), or fetched with --download.`,
  )
  .action(async (name: string, o: { seed: number; quick?: boolean; download?: boolean; json?: boolean }) => {
    const e = findExperiment(name);
    const r = await experimentCommand(e, {
      out: outDir(),
      seed: o.seed,
      quick: Boolean(o.quick),
      download: Boolean(o.download),
      log: o.json ? (l) => console.error(l) : log,
    });
    if (o.json)
      console.log(
        JSON.stringify(
          { name: e.name, checks: r.result.checks, result: r.result.result, report: r.report },
          null,
          2,
        ),
      );
    if (r.result.checks.some((c) => !c.passed)) process.exitCode = 2;
  });

program
  .command('graph')
  .description('write the computational graph of a configured model as DOT, Mermaid and SVG')
  .option('-c, --config <file>', 'run configuration (JSON)')
  .option('--batch <n>', 'batch size of the traced pass (default: min(batchSize, 8))', int('--batch'))
  .action(async (o: { config?: string; batch?: number }) => {
    await graphCommand(loadConfig(o.config, {}), { out: outDir(), batch: o.batch, log });
  });

program
  .command('diagnose')
  .description('train a few steps with diagnostics on every step and print a health table and alarms')
  .option('-c, --config <file>', 'run configuration (JSON)')
  .option('--steps <n>', 'training steps', int('--steps'), 20)
  .action(async (o: { config?: string; steps: number }) => {
    const r = await diagnoseCommand(loadConfig(o.config, {}), { steps: o.steps, log });
    if (r.alarms.length) process.exitCode = 2;
  });

program
  .command('demo')
  .description(
    'a tour of the chapter: synthetic experiments always, Fashion-MNIST ones when the data is found',
  )
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .option('--full', 'run the full Fashion-MNIST experiments (minutes) instead of short versions')
  .option('--download', 'download Fashion-MNIST if it is not found')
  .action(async (o: { seed: number; full?: boolean; download?: boolean }) => {
    await demoCommand({
      out: outDir(),
      seed: o.seed,
      full: Boolean(o.full),
      download: Boolean(o.download),
      log,
    });
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof KeelError) console.error(`keel: ${e.message}`);
  else console.error(e);
  process.exit(1);
});
