/**
 * What a command's file gets from the program: the global options (--out, --backend), a way to set
 * the exit code, the log, and `load`, which imports the library code a command runs only when it
 * runs (so that `keel --version` and `keel <command> --help` load commander and nothing else) and
 * turns an npm package that is not installed into one error naming it.
 */
import { MissingPackageError } from '../util/optional.js';

/** The program's side of a command. */
export interface Cli {
  /** --out: where run directories go. */
  out(): string;
  /** --backend (or $KEEL_BACKEND), when given. */
  backend(): string | undefined;
  /** Sets the exit code `keel` ends with (EXIT in exit.ts). */
  exit(code: number): void;
  /** Prints a line of the command's output. */
  log(line: string): void;
}

/** The package a failed import could not find, if that is why it failed. */
function missingPackage(e: unknown): string | null {
  const err = e as { code?: string; message?: string } | null;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') return null;
  return /Cannot find package '([^']+)'/.exec(err.message ?? '')?.[1] ?? null;
}

/** Imports what `command` runs; a missing npm package becomes a MissingPackageError naming it. */
export async function load<T>(command: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (e) {
    const name = missingPackage(e);
    if (name) throw new MissingPackageError([name], command);
    throw e;
  }
}

/** The `--json` flag's choice: the log goes to stderr so that stdout holds the JSON alone. */
export const logFor = (cli: Cli, json?: boolean) => (json ? (l: string) => console.error(l) : cli.log);
