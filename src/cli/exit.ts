/**
 * How `keel` ends: its exit codes (documented in `keel --help` and the README) — 0 completed (every
 * check passed), 1 error (bad input, missing data, a crash), 2 completed but unhealthy (the loss
 * diverged, a check failed, diagnose raised alarms), 130 interrupted by SIGINT (Ctrl-C), 143 by
 * SIGTERM — and `guarded`, which turns the first SIGINT/SIGTERM into an abort of the running work
 * (training stops between two steps and writes the report of what ran) and a second into an
 * immediate exit.
 */

/** Exit codes of `keel`. */
export const EXIT = { ok: 0, error: 1, unhealthy: 2, SIGINT: 130, SIGTERM: 143 } as const;

/** The exit code for a signal name (128 + its number, as shells report it). */
export function signalExitCode(signal: string): number {
  return signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
}

/** The exit codes, as `--help` shows them. */
export const EXIT_CODES = `
Exit codes:
  0    completed (every check passed)
  1    error: bad arguments or configuration, missing data, an unwritable --out, a crash
  2    completed but unhealthy: the loss diverged (NaN/Inf or exploded), an experiment check
       failed, or diagnose raised alarms
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM — the report of what ran is written first`;

/** Runs `work` with SIGINT/SIGTERM turned into an abort of its signal (a second signal exits at once). */
export async function guarded<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
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
