/**
 * Optional npm packages, loaded when first needed: keel's library installs only what `import 'keel'`
 * uses, and the packages of the command line, its reports, its sweep queue and its file formats
 * (vega, bullmq, onnx-proto, …) are optional peer dependencies. `optionalPackage` runs the dynamic
 * import and, when the package is not installed, throws a `MissingPackageError` that names it, what
 * needs it and the command that installs it; any other failure to load passes through unchanged.
 * (The CLI's `load` does the same for the modules a command runs: cli/context.ts.)
 */
import { KeelError } from './errors.js';

/** An optional package that a feature needs is not installed. */
export class MissingPackageError extends KeelError {
  constructor(
    /** The npm packages to install. */
    readonly packages: readonly string[],
    what: string,
  ) {
    super(
      `${what} needs the npm package${packages.length > 1 ? 's' : ''} ${packages.join(', ')}, not installed here: npm install ${packages.join(' ')}`,
    );
  }
}

/** Whether `e` says that `name` (or a file inside it) could not be found. */
function isNotFound(e: unknown, name: string): boolean {
  const err = e as { code?: string; message?: string } | null;
  return (
    (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') &&
    typeof err.message === 'string' &&
    err.message.includes(`'${name}`)
  );
}

/**
 * Loads an optional package: `load` is the `import('<name>')` itself (a literal, so that bundlers and
 * the type checker see it); `packages` lists what to install when it is missing (the package first),
 * `what` says what needs it (`'keel graph'`, `'writing a report'`).
 */
export async function optionalPackage<T>(
  load: () => Promise<T>,
  packages: readonly [string, ...string[]],
  what: string,
): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isNotFound(e, packages[0])) throw new MissingPackageError(packages, what);
    throw e;
  }
}
