/**
 * The `keel` command line (commander): train, experiment, graph, diagnose, demo. Each subcommand
 * lives in cli/commands/; this file parses flags, runs the command under a SIGINT/SIGTERM guard (the
 * first signal stops training between two steps and writes the report of what ran; a second quits at
 * once) and turns the outcome into one line and an exit code (runEnd.ts: 0 ok, 1 error, 2 unhealthy,
 * 130/143 interrupted).
 */
import '../io/node/engine.js';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { setBackend } from '../backend/registry.js';
import { EXPERIMENTS } from '../experiments/index.js';
import { environmentInfo, formatInfo } from '../io/node/info.js';
import type { DivergenceOptions } from '../train/fit.js';
import { KeelError, ValueError } from '../util/errors.js';
import { KEEL_VERSION } from '../util/version.js';
import { demoCommand } from './commands/demo.js';
import { diagnoseCommand } from './commands/diagnose.js';
import { experimentCommand, findExperiment } from './commands/experiment.js';
import { exportCommand } from './commands/export.js';
import { graphCommand } from './commands/graph.js';
import { labCommand } from './commands/lab.js';
import { formatPredictions, predictCommand } from './commands/predict.js';
import { type ShiftCommandOptions, shiftCommand, shiftResultJson } from './commands/shift.js';
import { sweepCommand } from './commands/sweep.js';
import { loadConfig, trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';
import type { Overrides } from './config.js';
import { ensureDir } from './paths.js';
import { divergenceAdvice, divergenceSentence, EXIT, RunAbortedError, signalExitCode } from './runEnd.js';
import { loadSweep } from './sweepSpec.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
  return n;
};
const posInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
  return n;
};

/** `keel train` options that are not configuration overrides. */
const NOT_OVERRIDES = new Set(['config', 'json', 'diagnostics', 'diagnosticsEvery', 'resume', 'force']);
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const EXIT_CODES = `
Exit codes:
  0    completed (every check passed)
  1    error: bad arguments or configuration, missing data, an unwritable --out, a crash
  2    completed but unhealthy: the loss diverged (NaN/Inf or exploded), an experiment check
       failed, or diagnose raised alarms
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM — the report of what ran is written first`;

const DATA_HELP = `
Fashion-MNIST is read from $KEEL_DATA when it is set (nothing else is looked at then), otherwise
from ~/.cache/keel/fashion-mnist or /usr/share/datasets/fashion-mnist (Debian: apt-get install
dataset-fashion-mnist); the four *-ubyte files may be gzipped or not. --download fetches them.`;

/** Runs `work` with SIGINT/SIGTERM turned into an abort of its signal (a second signal exits at once). */
async function guarded<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) process.exit(signalExitCode(sig));
    process.stderr.write(
      `\nkeel: ${sig} — stopping after the current step and writing the report (send it again to quit at once)\n`,
    );
    ctl.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(ctl.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const divergenceFlags = (c: Command) =>
  c
    .addOption(
      new Option(
        '--on-nonfinite <what>',
        'when the loss turns NaN/Inf or explodes: stop (default) or continue',
      ).choices(['stop', 'continue']),
    )
    .option(
      '--nonfinite-patience <n>',
      'diverged steps tolerated before stopping (default 0)',
      int('--nonfinite-patience'),
    );

const divergenceOf = (o: {
  onNonfinite?: string;
  nonfinitePatience?: number;
}): DivergenceOptions | undefined => {
  if (o.nonfinitePatience !== undefined && o.nonfinitePatience < 0)
    throw new ValueError(`--nonfinite-patience must be ≥ 0, got ${o.nonfinitePatience}`);
  return o.onNonfinite || o.nonfinitePatience !== undefined
    ? { onNonFinite: o.onNonfinite as DivergenceOptions['onNonFinite'], patience: o.nonfinitePatience }
    : undefined;
};

/** Parses `argv` and runs the command; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command();
  program
    .name('keel')
    .description('Deep learning in TypeScript that trains stably and generalizes')
    .version(KEEL_VERSION)
    .option('--out <dir>', 'where run directories are written', 'runs')
    .addOption(
      new Option(
        '--backend <name>',
        'kernel backend (default: native where the system BLAS loads, else wasm, else js)',
      )
        .choices(['native', 'wasm', 'js'])
        .env('KEEL_BACKEND'),
    )
    .addHelpText('after', EXIT_CODES)
    .hook('preAction', () => {
      const o = program.opts<{ backend?: string; out: string }>();
      if (o.backend) setBackend(o.backend);
      ensureDir(o.out, '--out directory');
    });

  const log = (line: string) => console.log(line);
  const outDir = () => program.opts<{ out: string }>().out;

  divergenceFlags(
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
      .option(
        '--clip-grad-norm <x>',
        'clip the total gradient norm to x before each step',
        num('--clip-grad-norm'),
      )
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
    .action(
      async (
        o: Overrides & {
          config?: string;
          json?: boolean;
          diagnostics: boolean;
          diagnosticsEvery?: number;
          resume?: string;
          force?: boolean;
        },
      ) => {
        const overrides = Object.keys(o).filter((k) => !NOT_OVERRIDES.has(k));
        if (o.resume && (o.config || overrides.length || o.force))
          throw new ValueError(
            `--resume continues the run exactly as it was configured (its config.json); drop ${[o.config ? '--config' : '', ...overrides.map(flagName), o.force ? '--force' : ''].filter(Boolean).join(', ')}`,
          );
        const config = o.resume ? loadConfig(join(o.resume, 'config.json'), {}) : loadConfig(o.config, o);
        if (o.resume && basename(resolve(o.resume)) !== config.name)
          throw new ValueError(
            `--resume ${o.resume}: the directory's name must be the run's name '${config.name}' (from its config.json)`,
          );
        const r = await guarded((signal) =>
          trainCommand(config, {
            out: o.resume ? dirname(resolve(o.resume)) : outDir(),
            resume: Boolean(o.resume),
            force: o.force,
            log: o.json ? (l) => console.error(l) : log,
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
          code = EXIT.unhealthy;
        }
      },
    );

  divergenceFlags(
    program
      .command('experiment')
      .description(`run one of the chapter's experiments: ${EXPERIMENTS.map((e) => e.name).join(', ')}`)
      .argument('<name>', 'experiment name')
      .option('--seed <n>', 'random seed', int('--seed'), 0)
      .option('--quick', 'the short version (fewer epochs and samples), as in the tests')
      .option('--download', 'download Fashion-MNIST if it is not found')
      .option('--json', 'print the result object as JSON on stdout'),
  )
    .addHelpText(
      'after',
      `\nExperiments:\n${EXPERIMENTS.map((e) => `  ${e.name.padEnd(17)}${e.description}`).join('\n')}\n${DATA_HELP}\n${EXIT_CODES}`,
    )
    .action(
      async (
        name: string,
        o: {
          seed: number;
          quick?: boolean;
          download?: boolean;
          json?: boolean;
          onNonfinite?: string;
          nonfinitePatience?: number;
        },
      ) => {
        const e = findExperiment(name);
        const divergence = divergenceOf(o);
        const r = await guarded((signal) =>
          experimentCommand(e, {
            out: outDir(),
            seed: o.seed,
            quick: Boolean(o.quick),
            download: Boolean(o.download),
            log: o.json ? (l) => console.error(l) : log,
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
        if (failed || r.result.diverged?.length) code = EXIT.unhealthy;
      },
    );

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
    .action(
      async (
        o: Omit<ShiftCommandOptions, 'config' | 'out' | 'log' | 'tty' | 'signal'> & {
          config?: string;
          json?: boolean;
        },
      ) => {
        const r = await guarded((signal) =>
          shiftCommand({
            ...o,
            config: o.config ? loadConfig(o.config, {}) : undefined,
            out: outDir(),
            log: o.json ? (l) => console.error(l) : log,
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
      },
    );

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
        const sweep = loadSweep(o.config);
        const r = await guarded((signal) =>
          sweepCommand(sweep, {
            out: outDir(),
            workers: o.workers,
            threads: o.threads,
            queue: o.queue,
            backend: program.opts<{ backend?: string }>().backend,
            log: o.json ? (l) => console.error(l) : log,
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
          code = signalExitCode(r.interruptedBy ?? 'SIGINT');
        } else if (r.failed.length) code = EXIT.unhealthy;
      },
    );

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
      code = await workerCommand({
        queue: o.queue,
        concurrency: o.concurrency,
        lockDuration: o.lockDuration,
        out: outDir(),
        backend: program.opts<{ backend?: string }>().backend,
        log,
      });
    });

  program
    .command('lab')
    .description(
      'serve the lab: train in the browser and watch overfitting, weight decay, dropout, gradients',
    )
    .option('--port <n>', 'port (0: any free one)', int('--port'), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      if (o.port < 0 || o.port > 65535) throw new ValueError(`--port must be in 0..65535, got ${o.port}`);
      await labCommand({ ...o, log });
    });

  program
    .command('graph')
    .description('write the computational graph of a configured model as DOT, Mermaid and SVG')
    .option('-c, --config <file>', 'run configuration (JSON)')
    .option('--batch <n>', 'batch size of the traced pass (default: min(batchSize, 8))', posInt('--batch'))
    .action(async (o: { config?: string; batch?: number }) => {
      await graphCommand(loadConfig(o.config, {}), { out: outDir(), batch: o.batch, log });
    });

  program
    .command('export')
    .description(
      "write a run's trained model as ONNX (opset 17) and/or a PyTorch-named safetensors state dict",
    )
    .requiredOption('--checkpoint <run>', 'a run directory (runs/<name>) or its checkpoint file')
    .option('--onnx <file>', 'the ONNX file to write')
    .option('--safetensors <file>', 'the state dict to write (loads into the same PyTorch nn.Sequential)')
    .action((o: { checkpoint: string; onnx?: string; safetensors?: string }) => {
      exportCommand({ ...o, version: KEEL_VERSION, log });
    });

  program
    .command('predict')
    .description('predict classes with probabilities from a checkpoint or an ONNX file')
    .option('--checkpoint <run>', 'a run directory (runs/<name>) or its checkpoint file')
    .option('--onnx <file>', 'an ONNX file (as keel export writes)')
    .requiredOption(
      '--input <path>',
      'an IDX image file (.gz or not), a directory of PNGs, a .npy or a .json array',
    )
    .option('--labels <file>', 'IDX labels of the inputs: adds the accuracy')
    .option('--top <k>', 'classes listed per sample', posInt('--top'), 3)
    .option('--json', 'print every prediction as JSON')
    .action(
      (o: {
        checkpoint?: string;
        onnx?: string;
        input: string;
        labels?: string;
        top: number;
        json?: boolean;
      }) => {
        const r = predictCommand(o);
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else for (const line of formatPredictions(r)) log(line);
      },
    );

  program
    .command('info')
    .description('which backends load here (and why not, with the fix), threads, SIMD, Node, the data')
    .option('--json', 'print the facts as JSON')
    .action((o: { json?: boolean }) => {
      const info = environmentInfo();
      if (o.json) console.log(JSON.stringify(info, null, 2));
      else for (const line of formatInfo(info)) log(line);
    });

  program
    .command('diagnose')
    .description('train a few steps with diagnostics on every step and print a health table and alarms')
    .option('-c, --config <file>', 'run configuration (JSON)')
    .option('--steps <n>', 'training steps', posInt('--steps'), 20)
    .addHelpText('after', EXIT_CODES)
    .action(async (o: { config?: string; steps: number }) => {
      const r = await diagnoseCommand(loadConfig(o.config, {}), { steps: o.steps, log });
      if (r.alarms.length) code = EXIT.unhealthy;
    });

  divergenceFlags(
    program
      .command('demo')
      .description(
        'a tour of the chapter: its experiments as the book sets them (about 1–2 minutes on 2 cores)',
      )
      .option('--seed <n>', 'random seed', int('--seed'), 0)
      .option('--quick', 'short versions of the Fashion-MNIST experiments (about 15 s), labelled as such')
      .option('--full', 'also the 30-epoch best-mlp experiment (about 10 more minutes)')
      .option('--download', 'download Fashion-MNIST if it is not found'),
  )
    .addHelpText('after', `${DATA_HELP}\n${EXIT_CODES}`)
    .action(
      async (o: {
        seed: number;
        quick?: boolean;
        full?: boolean;
        download?: boolean;
        onNonfinite?: string;
        nonfinitePatience?: number;
      }) => {
        const divergence = divergenceOf(o);
        const r = await guarded((signal) =>
          demoCommand({
            out: outDir(),
            seed: o.seed,
            quick: Boolean(o.quick),
            full: Boolean(o.full),
            download: Boolean(o.download),
            log,
            signal,
            divergence,
          }),
        );
        if (r.aborted) throw r.aborted;
        if (r.passed < r.total) code = EXIT.unhealthy;
      },
    );

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (!(e instanceof RunAbortedError)) throw e;
    if (e.end.kind === 'interrupted') {
      console.error(
        `keel: interrupted by ${e.end.signal} at epoch ${e.end.epoch}, step ${e.end.step}. The report of what ran: ${e.report}`,
      );
      return signalExitCode(e.end.signal);
    }
    console.error(`keel: ${e.message}`);
    console.error(`keel: the report of what ran before the error: ${e.report}`);
    if (!(e.error instanceof KeelError)) console.error(e.error);
    return EXIT.error;
  }
  return code;
}
