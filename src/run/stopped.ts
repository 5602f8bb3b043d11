/**
 * What a run that stopped early leaves behind: its `RunEnd` (interrupted by the signal, where it
 * was; failed with the error's message) and the report of what ran, written if it can be — a
 * report that cannot be written (a full disk) must not hide the error that stopped the run, so its
 * own error is returned beside it rather than thrown.
 */
import { InterruptedError } from '../train/fit.js';
import type { RunEnd } from './end.js';

/** The end of a run stopped by `e` after `epochs` finished epochs. */
export function stoppedEnd(e: unknown, epochs: number): RunEnd {
  return e instanceof InterruptedError
    ? { kind: 'interrupted', signal: String(e.reason ?? 'abort'), ...e.at, epochs }
    : { kind: 'failed', error: (e as Error)?.message ?? String(e), epochs };
}

/**
 * Writes the report of a stopped run with `write` (which returns its path): the path, or null and
 * the error the writing threw.
 */
export async function stoppedReport(
  write: () => Promise<string>,
): Promise<{ report: string | null; reportError: unknown }> {
  try {
    return { report: await write(), reportError: undefined };
  } catch (w) {
    return { report: null, reportError: w };
  }
}
