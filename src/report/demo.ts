/**
 * The index page of `keel demo` (runs/demo/report.html): a banner (all checks passed, some failed,
 * or the tour stopped), a row per experiment with its checks passed and a link to its report, the
 * experiments skipped and why, every check as a finding, and each experiment's key plot linking to
 * its report.
 */
import type { Check } from '../experiments/types.js';
import type { RunEnd } from '../run/end.js';
import type { Cell, ReportContent } from './html.js';

/** One experiment of the tour, as the index shows it. */
export interface DemoSection {
  name: string;
  title: string;
  checks: Check[];
  /** Its key plot, drawn: the SVG text and its file relative to the index. */
  keyFigure?: { title: string; svg: string; file: string };
}

/** The index page of the demo: what each experiment's checks gave, with a link and its key plot. */
export function demoIndex(
  sections: DemoSection[],
  s: {
    passed: number;
    total: number;
    skipped: string[];
    /** Why experiments were skipped (the missing data's instructions). */
    missing: string;
    /** What stopped the tour, when something did. */
    aborted?: { end: RunEnd; message: string };
    quick: boolean;
  },
): ReportContent {
  const failed = s.total - s.passed;
  const status: ReportContent['status'] = s.aborted
    ? {
        level: 'warning',
        text: `The tour stopped (${s.aborted.end.kind === 'interrupted' ? `interrupted by ${s.aborted.end.signal}` : s.aborted.message}); the experiments that finished are below.`,
      }
    : failed > 0
      ? { level: 'warning', text: `${failed} of ${s.total} checks failed — see the findings.` }
      : {
          level: 'ok',
          text: `All ${s.total} checks passed${s.quick ? ' (short versions of the Fashion-MNIST experiments)' : ''}.`,
        };
  const summary: [string, Cell][] = sections.map((sec) => [
    sec.title,
    {
      text: `${sec.checks.filter((c) => c.passed).length}/${sec.checks.length} checks — ${sec.name}/report.html`,
      href: `${sec.name}/report.html`,
    },
  ]);
  if (s.skipped.length)
    summary.push([`skipped: ${s.skipped.join(', ')}`, s.missing.split('\n')[0] ?? 'no Fashion-MNIST']);
  const figures = sections.flatMap((sec) =>
    sec.keyFigure
      ? [
          {
            title: `${sec.name}: ${sec.keyFigure.title}`,
            svg: sec.keyFigure.svg,
            file: sec.keyFigure.file,
            href: `${sec.name}/report.html`,
          },
        ]
      : [],
  );
  return {
    title: 'keel demo',
    subtitle: `${sections.length} experiments, ${s.passed}/${s.total} checks passed`,
    status,
    summary,
    findings: sections.flatMap((sec) =>
      sec.checks.map((c) => `${sec.name}: ${c.passed ? '✔' : '✘'} ${c.name} (${c.detail})`),
    ),
    figures,
  };
}
