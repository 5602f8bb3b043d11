/**
 * A run's directory, runs/<name>/: config.json, metrics.jsonl (one JSON object per line, appended
 * as each epoch ends, so a crash loses nothing already computed), the plots as SVG files and
 * report.html with them inline.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ReportContent, renderReport } from '../report/html.js';
import { type Plot, renderSvg } from '../report/plots.js';

/** Writes one run's files. */
export class RunDir {
  readonly dir: string;

  constructor(root: string, name: string) {
    this.dir = resolve(root, name);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'metrics.jsonl'), '');
  }

  /** Saves the configuration. */
  writeConfig(config: unknown): void {
    writeFileSync(join(this.dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Appends one metrics row (flushed immediately). */
  appendMetrics(row: Record<string, unknown>): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(row)}\n`);
  }

  /** Writes any text file in the run directory; returns its path. */
  writeFile(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    return p;
  }

  /** Renders the plots to SVG files and writes report.html; returns the report's path. */
  async writeReport(
    content: Omit<ReportContent, 'figures'>,
    plots: Plot[],
    extraFigures: ReportContent['figures'] = [],
  ): Promise<string> {
    const figures: ReportContent['figures'] = [];
    for (const p of plots) {
      const svg = await renderSvg(p);
      const file = `${p.id}.svg`;
      writeFileSync(join(this.dir, file), svg);
      figures.push({ title: p.title, caption: p.caption, svg, file });
    }
    const path = join(this.dir, 'report.html');
    writeFileSync(path, renderReport({ ...content, figures: [...figures, ...extraFigures] }));
    return path;
  }
}
