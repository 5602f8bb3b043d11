#!/usr/bin/env node
/**
 * The `keel` executable. It loads the CLI (main.ts) with a dynamic import, so that errors raised
 * while modules load — an invalid KEEL_THREADS, say — print as one `keel: …` line like every other
 * error instead of a stack trace. KeelErrors are the user's to fix (message only, exit 1); anything
 * else is a bug in keel and prints its stack.
 */
import { KeelError } from '../util/errors.js';

try {
  const { main } = await import('./main.js');
  process.exitCode = await main(process.argv);
} catch (e) {
  if (e instanceof KeelError) console.error(`keel: ${e.message}`);
  else console.error(e);
  process.exitCode = 1;
}
