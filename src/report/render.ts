/**
 * A plot to SVG: Vega-Lite compiles the plot's spec to a Vega spec, and Vega renders it headless
 * (no DOM, no canvas) to standalone SVG text. The two packages are loaded on the first render — they
 * are what writing a report needs, not what `import 'keel'` needs — and, when they are not installed,
 * the error names them.
 */
import { optionalPackage } from '../util/optional.js';
import type { Plot } from './plots.js';

/** Renders a plot to standalone SVG text. */
export async function renderSvg(plot: Plot): Promise<string> {
  const [vega, vegaLite] = await Promise.all([
    optionalPackage(() => import('vega'), ['vega', 'vega-lite'], 'drawing a report’s plots'),
    optionalPackage(() => import('vega-lite'), ['vega-lite', 'vega'], 'drawing a report’s plots'),
  ]);
  const view = new vega.View(vega.parse(vegaLite.compile(plot.spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
