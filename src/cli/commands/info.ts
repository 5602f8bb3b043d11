/**
 * `keel info [--json]`: which backends load here (and why not, with the fix) — the WebGPU adapter
 * with its limits among them — threads, SIMD, Node and where the data is (io/node/info.ts).
 */
import type { Command } from 'commander';
import { type Cli, load } from '../context.js';

/** Registers `keel info`, its flags and its action on the program. */
export function register(program: Command, cli: Cli): void {
  program
    .command('info')
    .description('which backends load here (and why not, with the fix), threads, SIMD, Node, the data')
    .option('--json', 'print the facts as JSON')
    .action(async (o: { json?: boolean }) => {
      const { environmentInfo, formatInfo } = await load('keel info', () => import('../../io/node/info.js'));
      // The GPU: started here (an adapter and a device) to say which, or why there is none.
      await (await import('../../io/node/webgpu.js')).probeWebGpu();
      const info = environmentInfo();
      if (o.json) console.log(JSON.stringify(info, null, 2));
      else for (const line of formatInfo(info)) cli.log(line);
    });
}
