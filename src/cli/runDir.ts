/**
 * A run's directory, runs/<name>/: config.json, metrics.jsonl (one JSON object per line, appended
 * as each epoch ends, so a crash loses nothing already computed), checkpoint.safetensors (the whole
 * training state, replaced atomically: a crash leaves the previous one or the new one, never a torn
 * file), model.safetensors (the final weights, PyTorch's key names), the plots as SVG files and
 * report.html with them inline. Non-finite numbers are written as the strings "NaN", "Infinity"
 * and "-Infinity" (JSON has no literal for them) and read back as numbers.
 * A directory that already holds a run is never overwritten silently: opening it for a new run
 * needs `force`, continuing it is `resume`.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/node/files.js';
import { type ReportContent, renderReport } from '../report/html.js';
import { type Plot, renderSvg } from '../report/plots.js';
import { KeelError } from '../util/errors.js';
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

/** A new run would overwrite an earlier one. */
export class RunExistsError extends KeelError {}

/** Files that mark a directory as holding a run. */
const RUN_FILES = ['config.json', 'metrics.jsonl', 'checkpoint.safetensors'];
/** The checkpoint's file name in a run directory. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** Writes one run's files. */
export class RunDir {
  readonly dir: string;

  /**
   * Opens runs/<name>/: 'new' refuses a directory that already holds a run, 'force' starts it over,
   * 'resume' keeps what is there (and clears temporary files a crash may have left).
   */
  constructor(root: string, name: string, mode: 'new' | 'force' | 'resume' = 'new') {
    const dir = join(root, name);
    if (mode === 'new' && RUN_FILES.some((f) => existsSync(join(dir, f))))
      throw new RunExistsError(
        `${dir} already holds a run; continue it with 'keel train --resume ${dir}', or start it over with --force (its files are replaced)`,
      );
    this.dir = ensureDir(join(ensureDir(root), name), 'run directory');
    for (const f of readdirSync(this.dir)) if (f.endsWith('.tmp')) rmSync(join(this.dir, f), { force: true });
    if (mode !== 'resume') {
      writeFileSync(join(this.dir, 'metrics.jsonl'), '');
      rmSync(join(this.dir, CHECKPOINT_FILE), { force: true });
    }
  }

  /** Writes the final weights (a plain state dict) atomically. */
  writeModel(bytes: Uint8Array): void {
    writeFileAtomic(join(this.dir, 'model.safetensors'), bytes);
  }

  /** Replaces the checkpoint atomically. */
  writeCheckpoint(bytes: Uint8Array): void {
    writeFileAtomic(join(this.dir, CHECKPOINT_FILE), bytes);
  }

  /** Keeps the metrics rows of the epochs before `epoch` (and the 'start' row): a resumed run redoes the rest. */
  truncateMetrics(epoch: number): void {
    const keep = this.readMetrics().filter(
      (r) => r.type === 'start' || (typeof r.epoch === 'number' && r.epoch < epoch && r.type !== 'end'),
    );
    writeFileAtomic(join(this.dir, 'metrics.jsonl'), keep.map((r) => `${metricsLine(r)}\n`).join(''));
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
      figures.push({ title: p.title, caption: p.caption, svg, file, wide: p.wide });
    }
    return this.writeFile('report.html', renderReport({ ...content, figures }));
  }
}
