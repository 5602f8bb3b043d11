// Where the lab's time goes: trains the Fashion-MNIST preset in headless Chromium (Debian's) under
// a trace with V8's sampling profiler, then prints, for each thread that was busy (the page, the
// training worker, a GEMM helper), its costliest functions by self time and by inclusive time (the
// sampled stacks summed: stepOnce, Evaluator.onRows, snapshot, … ). Tracing slows the run ~1.5×;
// shares, not seconds, are what to read. The sampler records wall time: a GEMM helper asleep in
// Atomics.wait shows as helperLoop's self time (its CPU time was 0.72 s of 4.7 s in one run, read
// from /proc). KEEL_ROOT=<checkout> profiles another build.
// Run: npm run build && node bench/lab-profile.mjs [top=25]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, openFashionPreset, startLab } from './labServer.mjs';

const top = Number(process.argv[2] ?? 25);
const { url, lab } = await startLab();
const dir = mkdtempSync(join(tmpdir(), 'keel-lab-profile-'));
const file = join(dir, 'trace.json');
const browser = await launchChromium();
let traced = false;
try {
  const page = await openFashionPreset(browser, url);
  if (page) {
    await browser.startTracing(page, { path: file, categories: ['disabled-by-default-v8.cpu_profiler'] });
    const t0 = Date.now();
    await page.click('#play');
    for (;;) {
      if ((await page.textContent('#status'))?.includes('done')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(
      `Fashion-MNIST preset, Train to done under the trace: ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    await browser.stopTracing();
    traced = true;
  }
} finally {
  await browser.close();
  lab.kill();
}
// Without Fashion-MNIST there is nothing to profile (openFashionPreset said so); keel lab is stopped.
if (!traced) {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// One profile per thread: its nodes (id → callFrame, parent) and the time of each node's samples.
const events = JSON.parse(readFileSync(file, 'utf8'));
rmSync(dir, { recursive: true, force: true });
const profiles = new Map();
for (const e of events.traceEvents ?? events) {
  if (e.name !== 'ProfileChunk') continue;
  const key = `${e.pid}:${e.id}`;
  let p = profiles.get(key);
  if (!p) profiles.set(key, (p = { nodes: new Map(), self: new Map() }));
  const d = e.args.data;
  for (const n of d.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
  const samples = d.cpuProfile?.samples ?? [];
  const deltas = d.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++)
    p.self.set(samples[i], (p.self.get(samples[i]) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
}
const name = (n) => `${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber}`;
const table = (title, m, total) => {
  console.log(`  ${title}`);
  for (const [f, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `  ${(t / 1e3).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${f}`,
    );
};
for (const [key, p] of profiles) {
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  for (const [id, t] of p.self) {
    total += t;
    const leaf = p.nodes.get(id);
    if (!leaf) continue;
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + t);
    const seen = new Set();
    for (let q = leaf; q; q = q.parent ? p.nodes.get(q.parent) : null) {
      const f = name(q);
      if (seen.has(f)) continue;
      seen.add(f);
      inclusive.set(f, (inclusive.get(f) ?? 0) + t);
    }
  }
  const idle = [...self].filter(([f]) => f.startsWith('(idle)')).reduce((s, [, t]) => s + t, 0);
  if (total - idle < 2e5) continue; // threads that were barely busy
  console.log(
    `\nthread ${key}: ${(total / 1e6).toFixed(2)} s sampled, ${((100 * idle) / total).toFixed(0)}% idle`,
  );
  table('by self time', self, total);
  table('by inclusive time', inclusive, total);
}
