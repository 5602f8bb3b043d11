/**
 * `keel train --config run.json [flags]`: trains the run a configuration describes (flags override
 * its fields) into runs/<name>/ (io/node/train.ts), or continues one with --resume; prints the
 * history as JSON with --json. A diverged loss is one line with what to try, and exit code 2.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { Overrides } from '../../run/config.js';
import { divergenceAdvice, divergenceSentence } from '../../run/end.js';
import { ValueError } from '../../util/errors.js';
import { type Cli, load, logFor } from '../context.js';
import { EXIT, EXIT_CODES, guarded } from '../exit.js';
import { DATA_HELP, divergenceFlags, int, num, posInt } from '../flags.js';

/** `keel train` options that are not configuration overrides. */
const NOT_OVERRIDES = new Set(['config', 'json', 'diagnostics', 'diagnosticsEvery', 'resume', 'force']);
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A numeric configuration override: the flag, its help, and how its value parses. */
type ValueFlag = [string, string, (flag: string) => (v: string) => number];

/** The numeric overrides: the training's, then its perturbations (data.transforms, model.noise). */
const VALUE_FLAGS: ValueFlag[] = [
  ['--seed <n>', 'random seed', int],
  ['--epochs <n>', 'epochs', int],
  ['--lr <x>', 'learning rate', num],
  ['--batch-size <n>', 'batch size', int],
  ['--weight-decay <x>', 'weight decay λ', num],
  ['--dropout <p>', 'dropout probability for every hidden layer', num],
  ['--clip-grad-norm <x>', 'clip the total gradient norm to x before each step', num],
  ['--hidden-noise <σ>', 'Gaussian noise σ on every hidden layer in training', num],
  ['--input-noise <σ>', 'Gaussian noise σ on the training inputs', num],
  ['--translate <k>', 'shift training images by up to k pixels (zero fill)', int],
  ['--flip <p>', 'mirror training images left-right with probability p', num],
  ['--erase <p>', 'erase a random rectangle of training images with probability p', num],
];

type TrainFlags = Overrides & {
  config?: string;
  json?: boolean;
  diagnostics: boolean;
  diagnosticsEvery?: number;
  resume?: string;
  force?: boolean;
};

/** Registers `keel train`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  const command = program
    .command('train')
    .description('train a model from a JSON config (flags override it); writes runs/<name>/')
    .option('-c, --config <file>', 'run configuration (JSON)')
    .option('--name <name>', 'run name');
  for (const [spec, help, parse] of VALUE_FLAGS) command.option(spec, help, parse(spec.split(' ')[0]));
  divergenceFlags(
    command
      .addOption(
        new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad']),
      )
      .option('--limit <n>', 'use only the first n samples of each split', int('--limit'))
      .option('--download', 'download Fashion-MNIST if it is not found')
      .option('--json', 'print the history as JSON on stdout')
      .option(
        '--resume <dir>',
        'continue the run in <dir> (e.g. runs/<name>) from its checkpoint, with its config.json',
      )
      .option('--force', 'start over a run directory that already holds a run (its files are replaced)')
      .option('--no-diagnostics', 'do not watch gradients and activations')
      .option(
        '--diagnostics-every <n>',
        'diagnostics sampling period in steps (default 25)',
        posInt('--diagnostics-every'),
      ),
  )
    .addHelpText('after', `${DATA_HELP}\n${EXIT_CODES}`)
    .action(async (o: TrainFlags) => {
      const overrides = Object.keys(o).filter((k) => !NOT_OVERRIDES.has(k));
      if (o.resume && (o.config || overrides.length || o.force))
        throw new ValueError(
          `--resume continues the run exactly as it was configured (its config.json); drop ${[o.config ? '--config' : '', ...overrides.map(flagName), o.force ? '--force' : ''].filter(Boolean).join(', ')}`,
        );
      const [{ loadConfig }, { runTraining }] = await Promise.all([
        load('keel train', () => import('../../io/node/runConfig.js')),
        load('keel train', () => import('../../io/node/train.js')),
      ]);
      const config = o.resume ? loadConfig(join(o.resume, 'config.json'), {}) : loadConfig(o.config, o);
      if (o.resume && basename(resolve(o.resume)) !== config.name)
        throw new ValueError(
          `--resume ${o.resume}: the directory's name must be the run's name '${config.name}' (from its config.json)`,
        );
      const r = await guarded((signal) =>
        runTraining(config, {
          out: o.resume ? dirname(resolve(o.resume)) : cli.out(),
          resume: Boolean(o.resume),
          force: o.force,
          log: logFor(cli, o.json),
          diagnostics: o.diagnostics,
          diagnosticsEvery: o.diagnosticsEvery,
          signal,
        }),
      );
      if (o.json)
        console.log(JSON.stringify({ config: r.config, history: r.history, report: r.report }, null, 2));
      if (r.end.kind === 'diverged') {
        console.error(
          `keel: training ${divergenceSentence(r.end.divergence)}. ${r.end.continued ? 'It went on (--on-nonfinite continue). ' : ''}Try ${divergenceAdvice(config.optimizer.lr)}. Report: ${r.report}`,
        );
        cli.exit(EXIT.unhealthy);
      }
    });
}
