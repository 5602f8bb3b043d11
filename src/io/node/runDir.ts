/**
 * A run's directory, runs/<name>/: config.json, metrics.jsonl (one JSON object per line, appended
 * as each epoch ends, so a crash loses nothing already computed), checkpoint.safetensors (the whole
 * training state, replaced atomically: a crash leaves the previous one or the new one, never a torn
 * file), model.safetensors (the final weights, PyTorch's key names), the plots as SVG files and
 * report.html with them inline. Metrics rows keep NaN and ±Infinity (run/metrics.ts).
 * A directory that already holds a run is never overwritten silently: opening it for a new run
 * needs `force`, continuing it is `resume`. One process at a time writes a run directory: RunDir
 * holds its lock (runLock.ts) until `release()`. Every write is atomic or, for metrics rows, whole
 * or absent, and fails as a FileWriteError naming the path and the cause.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ReportContent, type ReportDraft, renderReport } from '../../report/html.js';
import { renderSvg } from '../../report/render.js';
import { metricsLine, parseMetrics } from '../../run/metrics.js';
import { KeelError } from '../../util/errors.js';
import { appendLine, writeFileAtomic } from './files.js';
import { FileWriteError } from './fsErrors.js';
import { ensureDir } from './paths.js';
import { lockRunDir, type RunLock } from './runLock.js';

/** A new run would overwrite an earlier one. */
export class RunExistsError extends KeelError {}

/** Files that mark a directory as holding a run. */
const RUN_FILES = ['config.json', 'metrics.jsonl', 'checkpoint.safetensors'];
/** The checkpoint's file name in a run directory. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/**
 * How a run directory is opened: 'new' refuses one that holds a run, 'force' starts it over,
 * 'resume' keeps what is there, 'output' (experiments, the demo, shift analyses, graphs: outputs
 * that rerun in place) starts it over unless it holds a training run's checkpoint, which only
 * `keel train --force` may replace.
 */
export type RunDirMode = 'new' | 'force' | 'resume' | 'output';

/** Writes one run's files, holding the directory's lock (runLock.ts) until `release()`. */
export class RunDir {
  readonly dir: string;
  private readonly lock: RunLock;

  /**
   * Opens <root>/<name>/ and locks it (a RunLockedError names the process that holds it), then
   * applies `mode` and clears temporary files a crash may have left. `lease`: the lock's lease in
   * ms (runLock.ts).
   */
  constructor(root: string, name: string, mode: RunDirMode = 'new', o: { lease?: number } = {}) {
    const dir = join(root, name);
    const holdsRun = () => RUN_FILES.some((f) => existsSync(join(dir, f)));
    const refuse = () =>
      new RunExistsError(
        `${dir} already holds a run; continue it with 'keel train --resume ${dir}', or start it over with --force (its files are replaced)`,
      );
    this.dir = ensureDir(join(ensureDir(root), name), 'run directory');
    // The lock first: a directory another process writes is refused naming that process.
    this.lock = lockRunDir(dir, o);
    try {
      if (mode === 'new' && holdsRun()) throw refuse();
      if (mode === 'output' && existsSync(join(dir, CHECKPOINT_FILE)))
        throw new RunExistsError(
          `${dir} holds a training run (its ${CHECKPOINT_FILE}); write this elsewhere (another name or --out), or remove that run first`,
        );
      try {
        for (const f of readdirSync(this.dir))
          if (f.endsWith('.tmp')) rmSync(join(this.dir, f), { force: true });
        if (mode !== 'resume') rmSync(join(this.dir, CHECKPOINT_FILE), { force: true });
      } catch (e) {
        throw FileWriteError.from(this.dir, e, 'clean up');
      }
      if (mode !== 'resume') writeFileAtomic(join(this.dir, 'metrics.jsonl'), '');
    } catch (e) {
      this.lock.release();
      throw e;
    }
  }

  /** Releases the directory's lock (once the run wrote its last file). */
  release(): void {
    this.lock.release();
  }

  /** Writes the final weights (a plain state dict) atomically. */
  writeModel(bytes: Uint8Array): void {
    this.lock.check();
    writeFileAtomic(join(this.dir, 'model.safetensors'), bytes);
  }

  /** Replaces the checkpoint atomically. */
  writeCheckpoint(bytes: Uint8Array): void {
    this.lock.check();
    writeFileAtomic(join(this.dir, CHECKPOINT_FILE), bytes);
  }

  /** Keeps the metrics rows of the epochs before `epoch` (and the 'start' row): a resumed run redoes the rest. */
  truncateMetrics(epoch: number): void {
    this.lock.check();
    const keep = this.readMetrics().filter(
      (r) => r.type === 'start' || (typeof r.epoch === 'number' && r.epoch < epoch && r.type !== 'end'),
    );
    writeFileAtomic(join(this.dir, 'metrics.jsonl'), keep.map((r) => `${metricsLine(r)}\n`).join(''));
  }

  /** Saves the configuration (atomically). */
  writeConfig(config: unknown): void {
    this.lock.check();
    writeFileAtomic(join(this.dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Appends one metrics row (flushed immediately; a row that does not fit is not left torn). */
  appendMetrics(row: Record<string, unknown>): void {
    this.lock.check();
    appendLine(join(this.dir, 'metrics.jsonl'), metricsLine(row));
  }

  /** The rows of metrics.jsonl written so far. */
  readMetrics(): Record<string, unknown>[] {
    const p = join(this.dir, 'metrics.jsonl');
    return existsSync(p) ? parseMetrics(readFileSync(p, 'utf8')) : [];
  }

  /** Writes any text file in the run directory (atomically); returns its path. */
  writeFile(name: string, text: string): string {
    this.lock.check();
    const p = join(this.dir, name);
    writeFileAtomic(p, text);
    return p;
  }

  /** Renders a report's plots to SVG files and writes report.html; returns the report's path. */
  writeReport(draft: ReportDraft): Promise<string> {
    this.lock.check();
    return writeReportFiles(this.dir, draft);
  }
}

/** Renders a report's plots to SVG files in `dir` and writes `dir`/report.html (each atomically); returns its path. */
export async function writeReportFiles(dir: string, { content, plots }: ReportDraft): Promise<string> {
  const figures: ReportContent['figures'] = [];
  for (const p of plots) {
    const svg = await renderSvg(p);
    const file = `${p.id}.svg`;
    writeFileAtomic(join(dir, file), svg);
    figures.push({ title: p.title, caption: p.caption, svg, file, wide: p.wide });
  }
  const path = join(dir, 'report.html');
  writeFileAtomic(path, renderReport({ ...content, figures }));
  return path;
}
