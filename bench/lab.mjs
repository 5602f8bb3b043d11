// keel lab's speed targets, in headless Chromium (Debian's) against `keel lab` on localhost:
// first render (first contentful paint; target < 1 s) over 3 fresh pages, and the time of a 2-D
// epoch of 1,000 points on the wasm backend (target < 50 ms): 1,250 moons points with 20% held
// out, batch 32, the default 16-16 ReLU net, 100 epochs timed from Train to done — the page's whole
// loop, evaluation and snapshots included — and the worker's own steps per second; then the
// Fashion-MNIST preset (784-256-10, batch 64, 5,000 images served by keel lab, 20 epochs): steps per
// second from Train to done, and the median and best of the page's own readings while it trains.
// KEEL_ROOT=<checkout> measures another build (e.g. an older commit's worktree) with this script.
// Run: npm run build && node bench/lab.mjs
import { launchChromium, openFashionPreset, startLab } from './labServer.mjs';

const { url, lab } = await startLab();
const browser = await launchChromium([
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]);
const fcps = [];
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForSelector('#play');
  fcps.push(
    await page.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    ),
  );
  await page.close();
}
console.log(`first contentful paint: ${fcps.map((v) => v.toFixed(0)).join(', ')} ms (target < 1000)`);
const epochs = 100;
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`${url}?data.samples=1250&epochs=${epochs}`);
await page.waitForSelector('#play:not([disabled])');
const t0 = Date.now();
await page.click('#play');
let rate = 0;
for (;;) {
  const s = await page.textContent('#status');
  const m = /(\d+) steps\/s/.exec(s ?? '');
  if (m && Number(m[1]) > 0) rate = Math.max(rate, Number(m[1]));
  if (s?.includes('done')) break;
  await new Promise((r) => setTimeout(r, 50));
}
const ms = Date.now() - t0;
console.log(
  `2-D epoch of 1,000 points (32 steps of 32): ${(ms / epochs).toFixed(1)} ms over ${epochs} epochs, Train to done (target < 50); the worker's best rate ${rate} steps/s = ${((32 / rate) * 1000).toFixed(1)} ms per epoch of steps`,
);
const fashion = await openFashionPreset(browser, url);
if (fashion) {
  await fashion.click('#play');
  // Steps over wall time, Train to done (the page's evaluation and drawing included), and the page's
  // own steps/s readings while it trains.
  const start = Date.now();
  const readings = [];
  let steps = 0;
  for (;;) {
    const text = (await fashion.textContent('#status')) ?? '';
    steps = Number((await fashion.textContent('#step-count')) ?? 0);
    if (text.includes('done') || Date.now() - start > 120_000) break;
    const m = /(\d+) steps\/s/.exec(text);
    if (m && Number(m[1]) > 0) readings.push(Number(m[1]));
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (Date.now() - start) / 1000;
  readings.sort((x, y) => x - y);
  console.log(
    `Fashion-MNIST preset (784-256-10, batch 64): ${steps} steps in ${seconds.toFixed(1)} s, Train to done = ${(steps / seconds).toFixed(0)} steps/s; the page's readings while training: median ${readings[Math.floor(readings.length / 2)]}, best ${readings.at(-1)} steps/s`,
  );
}
await browser.close();
lab.kill('SIGTERM');
