#!/usr/bin/env node
/**
 * The `keel` executable. It loads the CLI (main.ts) with a dynamic import, so that errors raised
 * while modules load — an invalid KEEL_THREADS, say — print as one `keel: …` line like every other
 * error instead of a stack trace. KeelErrors are the user's to fix (message only, exit 1); anything
 * else is a bug in keel and prints its stack — except a file-system failure (ENOSPC, EACCES, …), which
 * is one line naming the path and the cause, and output that cannot be written (stdout on a full
 * disk: one line; a closed pipe: a quiet end). The command line's npm packages are optional for a
 * project that uses keel as a library: when one is missing, the line names every package to install.
 */
import { readFileSync } from 'node:fs';
import { describeFsError, fsErrorCode } from '../io/node/fsErrors.js';
import { KeelError } from '../util/errors.js';
import { MissingPackageError } from '../util/optional.js';
import { load } from './context.js';

/** The optional packages the command line, its reports, sweeps and file formats use (package.json). */
function cliPackages(): string[] {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return Object.keys(pkg.peerDependencies ?? {});
  } catch {
    return [];
  }
}

// Output that cannot be written: a closed pipe (`keel predict … | head`) ends quietly; a full disk or
// another failure (`keel predict --json > /dev/full`) is one line and exit code 1.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (fsErrorCode(e) !== 'EPIPE' && stream === process.stdout)
      process.stderr.write(`keel: cannot write the output: ${describeFsError(e)}\n`);
    process.exit(fsErrorCode(e) === 'EPIPE' ? 0 : 1);
  });

try {
  const { main } = await load('the keel command line', () => import('./main.js'));
  process.exitCode = await main(process.argv);
} catch (e) {
  const fsError = e as NodeJS.ErrnoException;
  if (e instanceof KeelError) console.error(`keel: ${e.message}`);
  // A file-system failure keel did not name itself still gets one line: the call, the path, the cause.
  else if (fsErrorCode(e) && fsError.syscall)
    console.error(`keel: ${fsError.syscall}${fsError.path ? ` ${fsError.path}` : ''}: ${describeFsError(e)}`);
  else console.error(e);
  if (e instanceof MissingPackageError)
    console.error(`keel: the command line's packages, all at once: npm install ${cliPackages().join(' ')}`);
  process.exitCode = 1;
}
