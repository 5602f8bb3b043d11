#!/usr/bin/env node
/**
 * The `keel` executable. It loads the CLI (main.ts) with a dynamic import, so that errors raised
 * while modules load — an invalid KEEL_THREADS, say — print as one `keel: …` line like every other
 * error instead of a stack trace. KeelErrors are the user's to fix (message only, exit 1); anything
 * else is a bug in keel and prints its stack. The command line's npm packages are optional for a
 * project that uses keel as a library: when one is missing, the line names every package to install.
 */
import { readFileSync } from 'node:fs';
import { KeelError } from '../util/errors.js';
import { MissingPackageError } from '../util/optional.js';
import { load } from './context.js';

/**
 * The optional packages the command line, its reports, sweeps and file formats use (package.json) —
 * not webgpu, the GPU's ~130 MB binding, which only `--backend webgpu` needs and names itself.
 */
function cliPackages(): string[] {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return Object.keys(pkg.peerDependencies ?? {}).filter((name) => name !== 'webgpu');
  } catch {
    return [];
  }
}

try {
  const { main } = await load('the keel command line', () => import('./main.js'));
  process.exitCode = await main(process.argv);
} catch (e) {
  if (e instanceof KeelError) console.error(`keel: ${e.message}`);
  else console.error(e);
  if (e instanceof MissingPackageError)
    console.error(`keel: the command line's packages, all at once: npm install ${cliPackages().join(' ')}`);
  process.exitCode = 1;
}
