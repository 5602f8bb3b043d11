/**
 * The reports as a reader sees them: each page is rendered in headless Chromium at 1400 px (Debian's,
 * driven by playwright-core) and inspected in the DOM — no legend label is cut off ('…'), no text
 * sticks out of its plot, axes of epochs, steps and layers have integer ticks, every axis keeps one
 * number format, every plot draws marks or says in words why it cannot, the index page links every
 * experiment's report (the links load) and shows its key curve, and the configuration box holds the
 * hyper-parameters that ran. Reports of a diverged and of an interrupted run are inspected too.
 * Screenshots are written to $KEEL_REPORT_SHOTS when set, to look at. Skipped without Chromium.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/io/node/demo.js';
import { loadConfig } from '../src/io/node/runConfig.js';
import { runTraining } from '../src/io/node/train.js';
import { RunAbortedError } from '../src/run/end.js';
import { launchChromium } from './chromium.js';
import { needs } from './requires.js';

interface PlotFacts {
  title: string;
  marks: number;
  explained: boolean;
  truncated: string[];
  overflow: string[];
  axes: { title: string; labels: string[] }[];
}

/** What a page's plots look like, read from the rendered DOM. */
const inspect = `(() => {
  const out = [];
  for (const svg of document.querySelectorAll('figure svg')) {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')];
    const title = svg.querySelector('.role-title-text')?.textContent ?? '';
    const overflow = texts
      .filter((t) => t.textContent.trim())
      .filter((t) => {
        const r = t.getBoundingClientRect();
        return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1;
      })
      .map((t) => t.textContent);
    const axes = [...svg.querySelectorAll('.role-axis')].map((a) => ({
      title: a.querySelector('.role-axis-title text')?.textContent ?? '',
      labels: [...a.querySelectorAll('.role-axis-label text')].map((t) => t.textContent),
    }));
    const marks = svg.querySelectorAll('.mark-line.role-mark path, .mark-symbol.role-mark path, .mark-rect.role-mark path').length;
    out.push({
      title,
      marks,
      explained: svg.querySelectorAll('.mark-text.role-mark text').length > 0,
      truncated: texts.map((t) => t.textContent).filter((s) => s.endsWith('…')),
      overflow,
      axes,
    });
  }
  return out;
})()`;

describe.runIf(needs('Chromium', 'reports.test'))('reports, rendered in Chromium', () => {
  const out = mkdtempSync(join(tmpdir(), 'keel-reports-'));
  const pages: string[] = [];
  let index = '';
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    const quiet = () => {};
    const demo = await runDemo({
      out,
      seed: 0,
      quick: true,
      full: false,
      download: false,
      log: quiet,
      tty: false,
    });
    index = demo.report;
    pages.push(
      index,
      ...['underfit-overfit', 'weight-decay', 'stability', 'memory', 'mlp', 'dropout']
        .map((n) => join(out, 'demo', n, 'report.html'))
        .filter(existsSync),
    );
    // A diverged run and an interrupted one (the signal fires before the first step).
    const config = loadConfig(undefined, { name: 'diverged', lr: 1e7, epochs: 3 });
    config.data = { ...config.data, dataset: 'moons', samples: 400, batchSize: 32 };
    pages.push((await runTraining(config, { out, log: quiet, tty: false })).report);
    const ctl = new AbortController();
    ctl.abort('SIGINT');
    try {
      await runTraining(
        { ...config, name: 'interrupted' },
        { out, log: quiet, tty: false, signal: ctl.signal },
      );
    } catch (e) {
      if (!(e instanceof RunAbortedError)) throw e;
      pages.push(e.report ?? '');
    }
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => browser?.close());

  async function facts(file: string): Promise<{ plots: PlotFacts[]; html: string; links: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`file://${file}`);
      const shots = process.env.KEEL_REPORT_SHOTS;
      if (shots)
        await page.screenshot({
          path: join(shots, `${file.split('/').slice(-2).join('_')}.png`),
          fullPage: true,
        });
      const plots = (await page.evaluate(inspect)) as PlotFacts[];
      const links = (await page.evaluate(
        `[...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))`,
      )) as string[];
      return { plots, html: await page.content(), links };
    } finally {
      await page.close();
    }
  }

  it('every plot draws its data or says why not; no label is cut off or sticks out', async () => {
    expect(pages.length).toBeGreaterThanOrEqual(7);
    for (const file of pages) {
      const { plots } = await facts(file);
      expect(plots.length, file).toBeGreaterThan(0);
      for (const p of plots) {
        const where = `${file}: plot '${p.title}'`;
        expect(p.marks > 0 || p.explained, `${where} is empty without saying why`).toBe(true);
        expect(p.truncated, `${where}: truncated labels`).toEqual([]);
        expect(p.overflow, `${where}: text outside the plot`).toEqual([]);
      }
    }
  }, 120_000);

  it('integer ticks on epoch, step and layer axes; one number format per axis', async () => {
    for (const file of pages) {
      for (const p of (await facts(file)).plots) {
        for (const a of p.axes) {
          const where = `${file}: '${p.title}', axis '${a.title}': ${a.labels.join(' ')}`;
          if (['epoch', 'step', 'layer', 'k', 'hidden layers', 'batch size'].includes(a.title))
            expect(
              a.labels.every((l) => /^-?[\d,]+$/.test(l)),
              where,
            ).toBe(true);
          const labels = a.labels.filter((l) => l.trim());
          const exp = labels.filter((l) => /\de[+-]\d/.test(l)).length;
          expect(exp === 0 || exp === labels.length, where).toBe(true);
        }
      }
    }
  }, 120_000);

  it('the index links every experiment report (the links load) and shows a key curve of each', async () => {
    const { links, plots } = await facts(index);
    const reports = [...new Set(links.filter((l) => l.endsWith('report.html')))];
    expect(reports.length).toBeGreaterThanOrEqual(4);
    const page = await browser.newPage();
    try {
      for (const l of links) {
        const target = resolve(dirname(index), l);
        expect(existsSync(target), l).toBe(true);
        const res = await page.goto(`file://${target}`);
        expect(res?.ok() ?? true, l).toBe(true);
      }
    } finally {
      await page.close();
    }
    // One key plot per experiment that ran, each titled by its experiment.
    expect(plots.length).toBe(reports.length);
  }, 120_000);

  it('the configuration box holds the hyper-parameters that ran; banners say how runs ended', async () => {
    const wd = await facts(join(out, 'demo', 'weight-decay', 'report.html'));
    expect(wd.html).toContain('"lr": 0.003');
    expect(wd.html).toContain('"lambdas"');
    expect(wd.html).toContain('class="status ok"');
    const diverged = await facts(pages.find((p) => p.includes('/diverged/')) as string);
    expect(diverged.html).toContain('class="status error"');
    expect(diverged.html).toMatch(/Training diverged at epoch 1, step \d+/);
    const interrupted = await facts(pages.find((p) => p.includes('/interrupted/')) as string);
    expect(interrupted.html).toContain('Interrupted by SIGINT at epoch 1, step 0');
    expect(interrupted.plots.some((p) => p.explained)).toBe(true);
  }, 120_000);
});
