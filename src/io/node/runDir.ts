/**
 * A run's directory, runs/<name>/: config.json, metrics.jsonl (one JSON object per line, appended
 * as each epoch ends, so a crash loses nothing already computed), checkpoint.safetensors (the whole
 * training state, replaced atomically: a crash leaves the previous one or the new one, never a torn
 * file), model.safetensors (the final weights, PyTorch's key names), the plots as SVG files and
 * report.html with them inline. Metrics rows keep NaN and ±Infinity (run/metrics.ts).
 * A directory that already holds a run is never overwritten silently: opening it for a new run
 * needs `force`, continuing it is `resume`.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ReportContent, type ReportDraft, renderReport } from '../../report/html.js';
import { renderSvg } from '../../report/render.js';
import { metricsLine, parseMetrics } from '../../run/metrics.js';
import { KeelError } from '../../util/errors.js';
import { writeFileAtomic } from './files.js';
import { ensureDir } from './paths.js';

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

  /** Renders a report's plots to SVG files and writes report.html; returns the report's path. */
  writeReport(draft: ReportDraft): Promise<string> {
    return writeReportFiles(this.dir, draft);
  }
}

/** Renders a report's plots to SVG files in `dir` and writes `dir`/report.html; returns its path. */
export async function writeReportFiles(dir: string, { content, plots }: ReportDraft): Promise<string> {
  const figures: ReportContent['figures'] = [];
  for (const p of plots) {
    const svg = await renderSvg(p);
    const file = `${p.id}.svg`;
    writeFileSync(join(dir, file), svg);
    figures.push({ title: p.title, caption: p.caption, svg, file, wide: p.wide });
  }
  const path = join(dir, 'report.html');
  writeFileSync(path, renderReport({ ...content, figures }));
  return path;
}
