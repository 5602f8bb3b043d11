/**
 * `keel demo` (what `npm start` runs): a tour of the chapter. The synthetic experiments always run
 * (under/over-fitting, weight decay, stability, memory); the Fashion-MNIST ones (MLP, dropout) run
 * when the data is found — short versions unless --full — and otherwise the demo says how to get the
 * data and goes on. It ends with an index report linking every experiment's report.
 */
import { join } from 'node:path';
import type { ImageSet } from '../../data/fashionMnist.js';
import { EXPERIMENTS } from '../../experiments/index.js';
import { DataNotFoundError, findFashionMnist } from '../../io/node/fashionMnist.js';
import { renderReport } from '../../report/html.js';
import { loadFashion } from '../fashion.js';
import { RunDir } from '../runDir.js';
import { experimentCommand } from './experiment.js';

/** Options of the demo. */
export interface DemoOptions {
  out: string;
  seed: number;
  full: boolean;
  download: boolean;
  log: (line: string) => void;
  tty?: boolean;
}

/** Runs the tour; returns the index report's path and how many checks passed. */
export async function demoCommand(
  o: DemoOptions,
): Promise<{ report: string; passed: number; total: number; skipped: string[] }> {
  const { log } = o;
  log('keel demo — the multilayer-perceptron chapter of Dive into Deep Learning, measured');
  let fashion: { train: ImageSet; test: ImageSet } | null = null;
  const skipped: string[] = [];
  try {
    if (findFashionMnist() || o.download) fashion = await loadFashion({ download: o.download, log });
    else await loadFashion({ download: false });
  } catch (e) {
    if (!(e instanceof DataNotFoundError)) throw e;
    log(e.message);
    log('Skipping the Fashion-MNIST experiments; running the synthetic ones.\n');
  }
  const index = new RunDir(o.out, 'demo');
  const sections: {
    name: string;
    title: string;
    report: string;
    checks: { name: string; passed: boolean; detail: string }[];
  }[] = [];
  for (const e of EXPERIMENTS) {
    if (e.name === 'best-mlp' && !o.full) continue; // long: `keel experiment best-mlp`
    if (e.needsFashion && !fashion) {
      skipped.push(e.name);
      continue;
    }
    const quick = o.full ? false : e.needsFashion || e.name === 'stability';
    log(
      `\n== ${e.name}${quick ? ` (short version; the full one: keel experiment ${e.name})` : ''}: ${e.description}`,
    );
    const { result, report } = await experimentCommand(e, {
      out: join(o.out, 'demo'),
      runName: e.name,
      seed: o.seed,
      quick,
      download: false,
      log,
      tty: o.tty,
      fashion,
    });
    sections.push({ name: e.name, title: result.title, report, checks: result.checks });
  }
  const checks = sections.flatMap((s) => s.checks);
  const passed = checks.filter((c) => c.passed).length;
  const html = renderReport({
    title: 'keel demo',
    subtitle: `${sections.length} experiments, ${passed}/${checks.length} checks passed${skipped.length ? `; skipped (no Fashion-MNIST): ${skipped.join(', ')}` : ''}`,
    summary: sections.map((s) => [
      s.title,
      `${s.checks.filter((c) => c.passed).length}/${s.checks.length} checks — ${s.name}/report.html`,
    ]),
    findings: sections.flatMap((s) =>
      s.checks.map((c) => `${s.name}: ${c.passed ? '✔' : '✘'} ${c.name} (${c.detail})`),
    ),
    figures: [],
  });
  const report = index.writeFile('report.html', html);
  log(`\n${passed}/${checks.length} checks passed. Report: ${report}`);
  return { report, passed, total: checks.length, skipped };
}
