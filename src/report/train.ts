/**
 * The report of a training run (`keel train`, a sweep's trial), drawn from what the run directory
 * holds alone — its configuration and the rows of metrics.jsonl — so that the same page comes out whether the run completed, diverged, was
 * interrupted or crashed (then it shows what was written before). Rows it reads: `start` (data and
 * model), `epoch` (an EpochRecord with the last batch's gradient norms), `diagnostics` (samples),
 * `activations` (histogram bins per layer), `alarm` and `divergence`.
 */
import type { Alarm } from '../diagnostics/alarms.js';
import type { Sample } from '../diagnostics/monitor.js';
import { diagnosticsPlots } from '../diagnostics/report.js';
import type { RunConfig } from '../run/config.js';
import { divergenceSentence, endStatus, type RunEnd } from '../run/end.js';
import type { Divergence } from '../train/divergence.js';
import type { EpochRecord } from '../train/fit.js';
import { formatNumber } from '../util/number.js';
import type { Cell, ReportDraft } from './html.js';
import { type Bins, curvePlots, linePlot, type Plot, type Point } from './plots.js';

type Row = Record<string, unknown>;
const ofType = <T>(rows: Row[], type: string) => rows.filter((r) => r.type === type) as unknown as T[];

/** The report of a training run from its metrics rows, its configuration and how it ended. */
export function trainReport(rows: Row[], config: RunConfig, end: RunEnd): ReportDraft {
  const start = ofType<{ data: string; model: string; layers: string }>(rows, 'start')[0];
  const epochs = ofType<EpochRecord & { gradNorms?: { name: string; norm: number }[] }>(rows, 'epoch');
  const samples = ofType<Sample>(rows, 'diagnostics');
  const alarms = ofType<Alarm>(rows, 'alarm');
  const bins = ofType<{ layers: Record<string, Bins> }>(rows, 'activations').at(-1)?.layers ?? {};
  const divergence = ofType<Divergence>(rows, 'divergence')[0];
  const id = config.name;
  const noEpoch =
    end.kind === 'diverged' && epochs.length === 0
      ? `No epoch finished: the run diverged at step ${end.divergence.step} of epoch 1 (the loss per step is plotted below).`
      : end.kind === 'interrupted' && epochs.length === 0
        ? `No epoch finished before the run was interrupted (${end.signal}).`
        : undefined;
  const plots: Plot[] = curvePlots(id, [{ label: config.name, epochs }], { emptyText: noEpoch });
  if (divergence) {
    const pts: Point[] = divergence.recentLosses.map((l) => ({ x: l.step, y: l.loss, series: 'train loss' }));
    plots.push(
      linePlot(pts, {
        id: `${id}-divergence`,
        title: `Loss per step up to the divergence (step ${divergence.step})`,
        xTitle: 'step',
        yTitle: 'loss',
        logY: true,
        integerX: true,
        points: pts.length <= 40,
        caption: divergenceSentence(divergence),
      }),
    );
  }
  const gradPts: Point[] = epochs.flatMap((e) =>
    (e.gradNorms ?? [])
      .filter((g) => g.name.endsWith('weight'))
      .map((g) => ({ x: e.epoch, y: g.norm, series: g.name })),
  );
  plots.push(
    linePlot(gradPts, {
      id: `${id}-grad-norms`,
      title: 'Gradient norm per layer (last batch of each epoch)',
      xTitle: 'epoch',
      yTitle: '‖∂L/∂W‖',
      logY: true,
      integerX: true,
      emptyText: noEpoch,
    }),
  );
  if (samples.length) plots.push(...diagnosticsPlots(samples, bins, id));
  const last = epochs.at(-1);
  const summary: [string, Cell][] = [];
  if (start) summary.push(['data', start.data]);
  summary.push(['epochs finished', `${epochs.length} of ${config.epochs}`]);
  if (last?.testAccuracy !== undefined) summary.push(['test accuracy', formatNumber(last.testAccuracy)]);
  if (last?.valAccuracy !== undefined) summary.push(['validation accuracy', formatNumber(last.valAccuracy)]);
  if (last) {
    summary.push(['final train loss', formatNumber(last.trainLoss)]);
    summary.push([
      'seconds per epoch',
      (epochs.reduce((s, e) => s + e.seconds, 0) / epochs.length).toFixed(2),
    ]);
  }
  if (divergence) summary.push(['divergence', divergenceSentence(divergence)]);
  summary.push([
    'diagnostics alarms',
    alarms.map((a) => `${a.kind} (${a.where.join(', ')})`).join('; ') ||
      (samples.length ? 'none' : 'diagnostics off'),
  ]);
  const findings = alarms.map(
    (a) =>
      `${a.kind} at ${a.where.join(', ')} (epoch ${a.epoch}, step ${a.step}): ${a.message}. Try: ${a.suggestion}`,
  );
  return {
    content: {
      title: `keel train: ${config.name}`,
      subtitle: start?.layers,
      status: endStatus(end, config.optimizer.lr),
      summary,
      findings,
      config,
    },
    plots,
  };
}
