/**
 * The run report: one self-contained HTML page (no scripts, no network) with a status banner (a
 * diverged, interrupted or failed run says so first), a summary table whose values may link to
 * other pages, the plots as inline SVG with captions, free-text findings, tables and the
 * configuration that ran.
 */
import type { Plot } from './plots.js';

/** A summary value: text, or text linking to another file (relative to the report). */
export type Cell = string | { text: string; href: string };

/** How the run ended, shown as a banner above everything else. */
export interface ReportStatus {
  level: 'ok' | 'warning' | 'error';
  /** One or two sentences: what happened and what to try. */
  text: string;
}

/** What a report shows. */
export interface ReportContent {
  title: string;
  subtitle?: string;
  status?: ReportStatus;
  /** Key results as label → value rows. */
  summary: [string, Cell][];
  /** Findings, one paragraph each (e.g. which acceptance checks passed). */
  findings?: string[];
  /** Rendered plots: title, caption, SVG text, the SVG file, and optionally a page the title links to. */
  figures: { title: string; caption?: string; svg: string; file: string; href?: string; wide?: boolean }[];
  /** Extra tables: a title, a header row and rows. */
  tables?: { title: string; header: string[]; rows: (string | number)[][] }[];
  config?: unknown;
}

/**
 * A report before its plots are drawn: the page's content and the plots that become its figures
 * (io/node/runDir.ts' `writeReport` renders them to SVG and writes the page). Report builders return
 * one, so they stay free of files and of the plot renderer.
 */
export interface ReportDraft {
  content: Omit<ReportContent, 'figures'>;
  plots: Plot[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** For attribute values (in double quotes). */
const attr = (s: string) => esc(s).replace(/"/g, '&quot;');

const cell = (c: Cell) => (typeof c === 'string' ? esc(c) : `<a href="${attr(c.href)}">${esc(c.text)}</a>`);

/** The HTML text of a report. */
export function renderReport(r: ReportContent): string {
  const rows = r.summary.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${cell(v)}</td></tr>`).join('\n');
  const findings = (r.findings ?? []).map((f) => `<li>${esc(f)}</li>`).join('\n');
  const figures = r.figures
    .map((f) => {
      const title = f.href ? `<a href="${attr(f.href)}">${esc(f.title)}</a>` : esc(f.title);
      return `<figure${f.wide ? ' class="wide"' : ''}>${f.svg}<figcaption><b>${title}</b>${f.caption ? ` — ${esc(f.caption)}` : ''} <a href="${attr(f.file)}">(SVG)</a></figcaption></figure>`;
    })
    .join('\n');
  const tables = (r.tables ?? [])
    .map(
      (t) =>
        `<h2>${esc(t.title)}</h2><table class="grid"><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${t.rows
          .map((row) => `<tr>${row.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
          .join('')}</table>`,
    )
    .join('\n');
  const status = r.status
    ? `<p class="status ${r.status.level}" role="status">${esc(r.status.text)}</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2937; }
h1 { margin-bottom: 0.2rem; } .sub { color: #6b7280; margin-top: 0; }
.status { padding: 0.7rem 1rem; border-radius: 6px; border-left: 6px solid; font-weight: 600; }
.status.ok { background: #ecfdf5; border-color: #10b981; }
.status.warning { background: #fffbeb; border-color: #f59e0b; }
.status.error { background: #fef2f2; border-color: #ef4444; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { padding: 0.3rem 0.8rem; text-align: left; border-bottom: 1px solid #e5e7eb; }
table.grid td, table.grid th { border: 1px solid #e5e7eb; }
figure { display: inline-block; margin: 0.5rem; vertical-align: top; max-width: 560px; } figure.wide { display: block; max-width: none; } figure svg { max-width: 100%; height: auto; } figcaption { font-size: 0.9rem; }
pre { background: #f9fafb; padding: 1rem; overflow-x: auto; }
</style></head><body>
<h1>${esc(r.title)}</h1>${r.subtitle ? `<p class="sub">${esc(r.subtitle)}</p>` : ''}
${status}
<table>${rows}</table>
${findings ? `<h2>Findings</h2><ul>${findings}</ul>` : ''}
${figures ? `<h2>Plots</h2>${figures}` : ''}
${tables}
${r.config !== undefined ? `<h2>Configuration</h2><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>` : ''}
</body></html>
`;
}
