/**
 * Plots as Vega-Lite specifications, rendered to SVG by Vega (headless in Node, native in
 * browsers). One helper per chart kind the reports need: lines over a numeric x (training curves,
 * ‖w‖ against λ, gradient norms per layer), optionally on a log scale.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One point of a line chart. */
export interface Point {
  x: number;
  y: number;
  series: string;
}

/** A chart: its id (used as the SVG file name), title, and Vega-Lite spec. */
export interface Plot {
  id: string;
  title: string;
  caption?: string;
  spec: TopLevelSpec;
}

/** Options of `linePlot`. */
export interface LinePlotOptions {
  id: string;
  title: string;
  xTitle: string;
  yTitle: string;
  caption?: string;
  logY?: boolean;
  /** A symmetric-log x axis (shows 0, as λ = 0 in weight-decay sweeps). */
  logX?: boolean;
  /** Draw points as well as lines (default true). */
  points?: boolean;
}

/** A multi-series line chart. Non-finite values, and non-positive ones on a log y axis, are left out. */
export function linePlot(points: Point[], o: LinePlotOptions): Plot {
  const values = points.filter((p) => Number.isFinite(p.y) && Number.isFinite(p.x) && (!o.logY || p.y > 0));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: o.points ?? true, tooltip: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: o.xTitle,
        scale: o.logX ? { type: 'symlog' } : { zero: false },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: o.yTitle,
        scale: o.logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  return { id: o.id, title: o.title, caption: o.caption, spec };
}

/** Renders a plot to standalone SVG text. */
export async function renderSvg(plot: Plot): Promise<string> {
  const view = new vega.View(vega.parse(compile(plot.spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Training curves (loss and, when present, accuracy) from epoch records. */
export function curvePlots(
  id: string,
  runs: {
    label: string;
    epochs: {
      epoch: number;
      trainLoss: number;
      valLoss?: number;
      testLoss?: number;
      trainAccuracy?: number;
      valAccuracy?: number;
      testAccuracy?: number;
    }[];
  }[],
): Plot[] {
  const loss: Point[] = [];
  const acc: Point[] = [];
  const tag = (label: string, what: string) => (runs.length > 1 ? `${label}: ${what}` : what);
  for (const r of runs) {
    for (const e of r.epochs) {
      loss.push({ x: e.epoch, y: e.trainLoss, series: tag(r.label, 'train') });
      if (e.valLoss !== undefined)
        loss.push({ x: e.epoch, y: e.valLoss, series: tag(r.label, 'validation') });
      if (e.testLoss !== undefined) loss.push({ x: e.epoch, y: e.testLoss, series: tag(r.label, 'test') });
      if (e.trainAccuracy !== undefined)
        acc.push({ x: e.epoch, y: e.trainAccuracy, series: tag(r.label, 'train') });
      if (e.valAccuracy !== undefined)
        acc.push({ x: e.epoch, y: e.valAccuracy, series: tag(r.label, 'validation') });
      if (e.testAccuracy !== undefined)
        acc.push({ x: e.epoch, y: e.testAccuracy, series: tag(r.label, 'test') });
    }
  }
  const plots = [
    linePlot(loss, {
      id: `${id}-loss`,
      title: 'Loss per epoch',
      xTitle: 'epoch',
      yTitle: 'loss',
      logY: true,
    }),
  ];
  if (acc.length)
    plots.push(
      linePlot(acc, {
        id: `${id}-accuracy`,
        title: 'Accuracy per epoch',
        xTitle: 'epoch',
        yTitle: 'accuracy',
      }),
    );
  return plots;
}

/** Histograms of values per series (e.g. activations per layer), one small panel per series. */
export function histogramPlot(
  values: { series: string; value: number }[],
  o: { id: string; title: string; xTitle: string; caption?: string },
): Plot {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    data: { values: values.filter((v) => Number.isFinite(v.value)) },
    facet: { field: 'series', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 180,
      height: 110,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'value', type: 'quantitative', bin: { maxbins: 30 }, title: o.xTitle },
        y: { aggregate: 'count', type: 'quantitative', title: 'count' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
  return { id: o.id, title: o.title, caption: o.caption, spec };
}
