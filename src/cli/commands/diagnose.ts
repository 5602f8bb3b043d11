/**
 * `keel diagnose --config run.json [--steps 20]`: trains a few steps with diagnostics on every step
 * and prints a health table and the alarms (io/node/diagnose.ts); alarms give exit code 2.
 */
import type { Command } from 'commander';
import { type Cli, load } from '../context.js';
import { EXIT, EXIT_CODES } from '../exit.js';
import { posInt } from '../flags.js';

/** Registers `keel diagnose`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('diagnose')
    .description('train a few steps with diagnostics on every step and print a health table and alarms')
    .option('-c, --config <file>', 'run configuration (JSON)')
    .option('--steps <n>', 'training steps', posInt('--steps'), 20)
    .addHelpText('after', EXIT_CODES)
    .action(async (o: { config?: string; steps: number }) => {
      const [{ loadConfig }, { runDiagnosis }] = await Promise.all([
        load('keel diagnose', () => import('../../io/node/runConfig.js')),
        load('keel diagnose', () => import('../../io/node/diagnose.js')),
      ]);
      const r = await runDiagnosis(loadConfig(o.config, {}), { steps: o.steps, log: cli.log });
      if (r.alarms.length) cli.exit(EXIT.unhealthy);
    });
}
