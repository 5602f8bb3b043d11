/**
 * A run's directory, runs/<name>/: config.json, metrics.jsonl (one JSON object per line, appended
 * as each epoch ends, so a crash loses nothing already computed), the plots as SVG files and
 * report.html with them inline. Non-finite numbers are written as the strings "NaN", "Infinity"
 * and "-Infinity" (JSON has no literal for them) and read back as numbers.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ReportContent, renderReport } from '../report/html.js';
import { type Plot, renderSvg } from '../report/plots.js';
import { ensureDir } from './paths.js';

/** JSON text of a metrics row, keeping NaN and ±Infinity as strings. */
export function metricsLine(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/** Parses metrics.jsonl text; a torn last line (a crash mid-write) is skipped. */
export function parseMetrics(text: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(
        JSON.parse(line, (_k, v) =>
          v === 'NaN'
            ? Number.NaN
            : v === 'Infinity'
              ? Number.POSITIVE_INFINITY
              : v === '-Infinity'
                ? Number.NEGATIVE_INFINITY
                : v,
        ),
      );
    } catch {
      // a partial line: the process died while appending it
    }
  }
  return rows;
}

/** Writes one run's files. */
export class RunDir {
  readonly dir: string;

  constructor(root: string, name: string) {
    this.dir = ensureDir(join(ensureDir(root), name), 'run directory');
    writeFileSync(join(this.dir, 'metrics.jsonl'), '');
  }

  /** Saves the configuration. */
  writeConfig(config: unknown): void {
    writeFileSync(join(this.dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Appends one metrics row (flushed immediately). */
  appendMetrics(row: Record<string, unknown>): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${metricsLine(row)}\n`);
  }

  /** The rows of metrics.jsonl written so far. */
  readMetrics(): Record<string, unknown>[] {
    const p = join(this.dir, 'metrics.jsonl');
    return existsSync(p) ? parseMetrics(readFileSync(p, 'utf8')) : [];
  }

  /** Writes any text file in the run directory; returns its path. */
  writeFile(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    return p;
  }

  /** Renders the plots to SVG files and writes report.html; returns the report's path. */
  async writeReport(content: Omit<ReportContent, 'figures'>, plots: Plot[]): Promise<string> {
    const figures: ReportContent['figures'] = [];
    for (const p of plots) {
      const svg = await renderSvg(p);
      const file = `${p.id}.svg`;
      writeFileSync(join(this.dir, file), svg);
      figures.push({ title: p.title, caption: p.caption, svg, file });
    }
    return this.writeFile('report.html', renderReport({ ...content, figures }));
  }
}
