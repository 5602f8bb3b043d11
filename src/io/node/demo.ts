/**
 * The demo (`keel demo`, what `npm start` runs): a tour of the chapter with its real experiments — the
 * synthetic ones (under/over-fitting, weight decay, stability, memory) always, the Fashion-MNIST ones
 * (MLP, dropout) as the book sets them when the data is found, otherwise the demo says how to get it
 * and goes on. About 1–2 minutes on 2 cores, said when it starts; `--quick` runs short versions
 * (labelled so, with their own expectations), `--full` adds best-mlp and runs the shift and perturbation experiments in full. It ends with an
 * index page linking every experiment's report and showing its key curve.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSet } from '../../data/fashionMnist.js';
import { EXPERIMENTS } from '../../experiments/index.js';
import { type DemoSection, demoIndex } from '../../report/demo.js';
import { renderReport } from '../../report/html.js';
import { RunAbortedError } from '../../run/end.js';
import type { DivergenceOptions } from '../../train/fit.js';
import { runExperiment } from './experiment.js';
import { loadFashion } from './fashionCache.js';
import { DataNotFoundError } from './fashionMnist.js';
import { RunDir } from './runDir.js';

/** Experiments the demo runs in their short version unless --full. */
const SHORT_UNLESS_FULL = new Set(['label-shift', 'covariate-shift', 'perturbation']);

/** Options of the demo. */
export interface DemoOptions {
  out: string;
  seed: number;
  /** Short versions of the long experiments (seconds instead of a minute or two). */
  quick: boolean;
  /** Also best-mlp (one seed, 120 epochs). */
  full: boolean;
  download: boolean;
  log: (line: string) => void;
  tty?: boolean;
  signal?: AbortSignal;
  divergence?: DivergenceOptions;
}

/** What the demo ran. */
export interface DemoResult {
  report: string;
  passed: number;
  total: number;
  skipped: string[];
  /** Set when an experiment was interrupted or failed: the index lists what finished. */
  aborted?: RunAbortedError;
}

/** Runs the tour; returns the index report's path and how many checks passed. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const { log } = o;
  log('keel demo — the multilayer-perceptron chapter of Dive into Deep Learning, measured');
  log(
    o.quick
      ? 'Short versions of the Fashion-MNIST experiments (labelled as such): about 15 s.'
      : `The experiments as the book sets them: about 1–2 minutes on 2 cores${o.full ? ', plus ~10 minutes each for best-mlp and the full label-shift, ~2 for the full covariate-shift and ~7 for the full perturbation' : ' (the shift and perturbation experiments in their short versions)'} (keel demo --quick: short versions in ~15 s).`,
  );
  let fashion: { train: ImageSet; test: ImageSet } | null = null;
  const skipped: string[] = [];
  let missing = '';
  try {
    fashion = await loadFashion({ download: o.download, log });
  } catch (e) {
    if (!(e instanceof DataNotFoundError)) throw e;
    missing = e.message;
    log(e.message);
    log('Skipping the Fashion-MNIST experiments; running the synthetic ones.\n');
  }
  const demoDir = new RunDir(o.out, 'demo', 'output');
  try {
    return await tour(demoDir, o, fashion, skipped, missing);
  } finally {
    demoDir.release();
  }
}

/** The demo's experiments into runs/demo/ (open and locked), and the index page. */
async function tour(
  demoDir: RunDir,
  o: DemoOptions,
  fashion: { train: ImageSet; test: ImageSet } | null,
  skipped: string[],
  missing: string,
): Promise<DemoResult> {
  const { log } = o;
  const sections: DemoSection[] = [];
  let aborted: RunAbortedError | undefined;
  for (const e of EXPERIMENTS) {
    if (e.name === 'best-mlp' && !o.full) continue; // 120 epochs: `keel demo --full` or `keel experiment best-mlp`
    if (e.needsFashion && !fashion) {
      skipped.push(e.name);
      continue;
    }
    // The full versions of the shift experiments (≈9 and ≈2 minutes: 150 rounds of three shift
    // tests each) and of perturbation (18 trainings) run with --full.
    const quick =
      (o.quick && (e.needsFashion || e.name === 'stability')) || (SHORT_UNLESS_FULL.has(e.name) && !o.full);
    log(
      `\n== ${e.name}${quick ? ` (short version; the full one: keel experiment ${e.name})` : ''}: ${e.description}`,
    );
    try {
      const { result } = await runExperiment(e, {
        out: demoDir.dir,
        runName: e.name,
        seed: o.seed,
        quick,
        download: false,
        log,
        tty: o.tty,
        fashion,
        signal: o.signal,
        divergence: o.divergence,
      });
      const keyPlot = result.plots.find((p) => p.id === result.keyPlot) ?? result.plots[0];
      const file = keyPlot && `${e.name}/${keyPlot.id}.svg`;
      sections.push({
        name: e.name,
        title: result.title,
        checks: result.checks,
        keyFigure: keyPlot && {
          title: keyPlot.title,
          svg: readFileSync(join(demoDir.dir, file), 'utf8'),
          file,
        },
      });
    } catch (err) {
      if (!(err instanceof RunAbortedError)) throw err;
      aborted = err;
      break;
    }
  }
  const checks = sections.flatMap((s) => s.checks);
  const passed = checks.filter((c) => c.passed).length;
  const report = demoDir.writeFile(
    'report.html',
    renderReport(
      demoIndex(sections, {
        passed,
        total: checks.length,
        skipped,
        missing,
        aborted,
        quick: o.quick,
      }),
    ),
  );
  if (!aborted) log(`\n${passed}/${checks.length} checks passed. Report: ${report}`);
  return { report, passed, total: checks.length, skipped, aborted };
}
