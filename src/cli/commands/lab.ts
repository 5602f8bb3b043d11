/**
 * `keel lab [--port 8080] [--host 127.0.0.1]`: serves the lab (io/node/labServer.ts), prints its
 * URL and serves until SIGINT or SIGTERM.
 */
import type { Command } from 'commander';
import { ValueError } from '../../util/errors.js';
import { type Cli, load } from '../context.js';
import { int } from '../flags.js';

/** Registers `keel lab`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('lab')
    .description(
      'serve the lab: train in the browser and watch overfitting, weight decay, dropout, gradients',
    )
    .option('--port <n>', 'port (0: any free one)', int('--port'), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      if (o.port < 0 || o.port > 65535) throw new ValueError(`--port must be in 0..65535, got ${o.port}`);
      const { labServer } = await load('keel lab', () => import('../../io/node/labServer.js'));
      const { server, url } = await labServer(o);
      cli.log(`keel lab: open ${url} (Ctrl-C stops the server)`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
