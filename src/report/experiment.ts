/**
 * The report of a finished experiment (`keel experiment <name>`, each section of the demo): a banner
 * that puts diverged trainings first and failed acceptance checks next, the experiment's summary,
 * every check as a finding, its tables and plots, and the settings that ran.
 */
import type { ExperimentResult } from '../experiments/types.js';
import { divergenceSentence } from '../run/end.js';
import type { ReportDraft, ReportStatus } from './html.js';

/** The banner of a finished experiment: diverged trainings first, then failed checks. */
export function experimentStatus(result: ExperimentResult): ReportStatus {
  const failed = result.checks.filter((c) => !c.passed);
  const diverged = result.diverged ?? [];
  if (diverged.length)
    return {
      level: 'error',
      text: diverged.map((d) => `${d.run}: training ${divergenceSentence(d.divergence)}`).join(' '),
    };
  if (failed.length)
    return {
      level: 'warning',
      text: `${failed.length} of ${result.checks.length} checks failed: ${failed.map((c) => c.name).join('; ')}.`,
    };
  return { level: 'ok', text: `All ${result.checks.length} checks passed.` };
}

/** The report of an experiment's result; `subtitle` says how it was run, `config` what ran. */
export function experimentReport(result: ExperimentResult, subtitle: string, config: unknown): ReportDraft {
  return {
    content: {
      title: result.title,
      subtitle,
      status: experimentStatus(result),
      summary: result.summary,
      findings: result.checks.map((c) => `${c.passed ? '✔' : '✘'} ${c.name}: ${c.detail}`),
      tables: result.tables,
      config,
    },
    plots: result.plots,
  };
}
