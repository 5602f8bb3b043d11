/**
 * The `keel` program (commander): the global options (--out, --backend), one command per file in
 * commands/ — each registers its own flags and calls the library when it runs — and the outcome as
 * one line and an exit code (exit.ts). Nothing heavy loads here: a command imports what it runs when
 * it runs, and the engine (kernels, threads, the BLAS) loads before a command's action, so that
 * `keel --version` and `keel <command> --help` start in a fraction of a second.
 */
import { Command, Option } from 'commander';
import { RunAbortedError } from '../run/end.js';
import { KeelError } from '../util/errors.js';
import { KEEL_VERSION } from '../util/version.js';
import * as demo from './commands/demo.js';
import * as diagnose from './commands/diagnose.js';
import * as experiment from './commands/experiment.js';
import * as exportModel from './commands/export.js';
import * as graph from './commands/graph.js';
import * as info from './commands/info.js';
import * as lab from './commands/lab.js';
import * as predict from './commands/predict.js';
import * as shift from './commands/shift.js';
import * as sweep from './commands/sweep.js';
import * as train from './commands/train.js';
import * as worker from './commands/worker.js';
import type { Cli } from './context.js';
import { EXIT, EXIT_CODES, signalExitCode } from './exit.js';

/** The commands, in the order `keel --help` lists them. */
const COMMANDS = [
  train,
  experiment,
  shift,
  sweep,
  worker,
  lab,
  graph,
  exportModel,
  predict,
  info,
  diagnose,
  demo,
];

/** Parses `argv` and runs the command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command();
  const opts = () => program.opts<{ backend?: string; out: string; eager?: boolean }>();
  program
    .name('keel')
    .description('Deep learning in TypeScript that trains stably and generalizes')
    .version(KEEL_VERSION)
    .option('--out <dir>', 'where run directories are written', 'runs')
    .addOption(
      new Option(
        '--backend <name>',
        'kernel backend (default: native where the system BLAS loads, else wasm, else js; webgpu: the GPU, through npm webgpu)',
      )
        .choices(['native', 'wasm', 'js', 'webgpu'])
        .env('KEEL_BACKEND'),
    )
    .option(
      '--eager',
      'run training steps eagerly instead of as compiled plans (the same results, slower; also KEEL_EAGER=1)',
    )
    .addHelpText('after', EXIT_CODES)
    .hook('preAction', async () => {
      // Before any command runs: the engine (threads, relaxed SIMD, the native backend, eager
      // steps with --eager, which sweep workers inherit through the environment), then --backend
      // and --out.
      if (opts().eager) process.env.KEEL_EAGER = '1';
      const [{ startBackend }, { ensureDir }] = await Promise.all([
        import('../io/node/engine.js'),
        import('../io/node/paths.js'),
      ]);
      const o = opts();
      // The GPU backend (never the default) starts asynchronously: startBackend awaits it.
      if (o.backend) await startBackend(o.backend);
      ensureDir(o.out, '--out directory');
    });
  const cli: Cli = {
    out: () => opts().out,
    backend: () => opts().backend,
    exit: (c) => {
      code = c;
    },
    log: (line) => console.log(line),
  };
  for (const command of COMMANDS) command.register(program, cli);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (!(e instanceof RunAbortedError)) throw e;
    const report = e.report
      ? `the report of what ran${e.end.kind === 'interrupted' ? '' : ' before the error'}: ${e.report}`
      : `the report of what ran could not be written: ${(e.reportError as Error)?.message ?? e.reportError}`;
    if (e.end.kind === 'interrupted') {
      console.error(
        `keel: interrupted by ${e.end.signal} at epoch ${e.end.epoch}, step ${e.end.step}. ${report[0].toUpperCase()}${report.slice(1)}`,
      );
      return signalExitCode(e.end.signal);
    }
    console.error(`keel: ${e.message}${e.hint ? `. ${e.hint}` : ''}`);
    console.error(`keel: ${report}`);
    if (!(e.error instanceof KeelError)) console.error(e.error);
    return EXIT.error;
  }
  return code;
}
