/**
 * How a run ended — completed, diverged, interrupted by a signal, or failed with an error — and
 * what each means for the user: the report's banner, the sentence that says where and why a run
 * diverged (the CLI's one line, the lab's status), the advice that follows it, and the error that
 * carries an interrupted or failed run's end to the caller once the report of what ran is written.
 * The exit code each end gives is the CLI's (cli/exit.ts).
 */
import type { ReportStatus } from '../report/html.js';
import type { Divergence } from '../train/divergence.js';
import { KeelError } from '../util/errors.js';
import { formatNumber } from '../util/number.js';

/** The end of a run. */
export type RunEnd =
  | { kind: 'completed'; epochs: number; seconds: number }
  | { kind: 'diverged'; divergence: Divergence; continued: boolean; epochs: number }
  | { kind: 'interrupted'; signal: string; epoch: number; step: number; epochs: number }
  | { kind: 'failed'; error: string; epochs: number };

/** What to try after a divergence, in terms of the run's own settings. */
export function divergenceAdvice(lr?: number): string {
  return `a lower learning rate${lr === undefined ? '' : ` (this run: ${formatNumber(lr, 4, 'significant')})`}, gradient clipping (--clip-grad-norm 1), or an initialization that keeps activations bounded (model.init "kaiming" or "xavier")`;
}

/** One sentence on the divergence: where, what the loss was, and why. */
export function divergenceSentence(d: Divergence): string {
  return `diverged at epoch ${d.epoch}, step ${d.step}: ${d.reason === 'non-finite' ? `the loss is ${d.loss}; ` : ''}${d.diagnosis}`;
}

const finished = (n: number) => (n === 1 ? '1 epoch finished' : `${n} epochs finished`);

/** The report banner for a run's end. */
export function endStatus(end: RunEnd, lr?: number): ReportStatus {
  switch (end.kind) {
    case 'completed':
      return { level: 'ok', text: `Completed: ${finished(end.epochs)} in ${end.seconds.toFixed(1)} s.` };
    case 'diverged':
      return {
        level: end.continued ? 'warning' : 'error',
        text: `Training ${divergenceSentence(end.divergence)}. ${
          end.continued
            ? `Training went on (--on-nonfinite continue); ${finished(end.epochs)}.`
            : `Training stopped there (${finished(end.epochs)} before); --on-nonfinite continue trains on.`
        } To fix it, try ${divergenceAdvice(lr)}.`,
      };
    case 'interrupted':
      return {
        level: 'warning',
        text: `Interrupted by ${end.signal} at epoch ${end.epoch}, step ${end.step}: this report shows what ran before (${finished(end.epochs)}).`,
      };
    case 'failed':
      return {
        level: 'error',
        text: `Failed: ${end.error}. This report shows what ran before the error (${finished(end.epochs)}).`,
      };
    default:
      return end satisfies never;
  }
}

/**
 * An interrupted or failed run, after the report of what ran before was written — or tried: where
 * the report could not be written (a full disk), `report` is null and `reportError` says why.
 */
export class RunAbortedError extends KeelError {
  constructor(
    /** What stopped the run: an `InterruptedError`, or the error that was thrown. */
    readonly error: unknown,
    readonly end: RunEnd,
    readonly report: string | null,
    /** Why the report could not be written, when it could not. */
    readonly reportError?: unknown,
    /** What the user can do next (e.g. how to continue from the last checkpoint). */
    readonly hint?: string,
  ) {
    super((error as Error)?.message ?? String(error));
  }
}
