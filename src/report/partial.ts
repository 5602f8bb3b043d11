/**
 * The report of an experiment that did not finish (interrupted or crashed), drawn from what its
 * metrics.jsonl holds: training curves of every run that recorded epochs (rows with `epoch` and
 * `trainLoss`, grouped by their `run` label), how many rows were written, and the banner saying
 * what happened. The experiment's checks need its end, so there are none.
 */
import { endStatus, type RunEnd } from '../run/end.js';
import type { ReportDraft } from './html.js';
import { type CurveRun, curvePlots } from './plots.js';

/** Groups epoch rows by their `run` label, in order of appearance. */
export function curvesFromRows(rows: Record<string, unknown>[]): CurveRun[] {
  const runs = new Map<string, CurveRun>();
  for (const r of rows) {
    if (typeof r.epoch !== 'number' || typeof r.trainLoss !== 'number') continue;
    const label = String(r.run ?? 'run');
    let c = runs.get(label);
    if (!c) runs.set(label, (c = { label, epochs: [] }));
    c.epochs.push(r as unknown as CurveRun['epochs'][number]);
  }
  return [...runs.values()];
}

/** The report of an unfinished experiment from the metrics rows it wrote. */
export function partialReport(
  rows: Record<string, unknown>[],
  o: { id: string; title: string; subtitle: string; config: unknown; end: RunEnd },
): ReportDraft {
  const curves = curvesFromRows(rows);
  return {
    content: {
      title: o.title,
      subtitle: o.subtitle,
      status: endStatus(o.end),
      summary: [
        ['metrics rows written', String(rows.length)],
        ['runs with epochs', curves.map((c) => `${c.label} (${c.epochs.length})`).join(', ') || 'none'],
      ],
      config: o.config,
    },
    plots: curves.length ? curvePlots(o.id, curves) : [],
  };
}
