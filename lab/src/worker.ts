/**
 * The lab's training worker: runs a Session off the page's thread, so the page never freezes. While
 * playing it steps for ~25 ms at a time, then yields (messages — pause, a new configuration — are
 * handled between slices), sending a progress beat each slice and a snapshot at most every 120 ms.
 * It trains on WebGPU where `navigator.gpu` gives an adapter (chosen once, before the first run;
 * the session's reads are then awaited, one session operation at a time), else on wasm, whose
 * products run on Worker helper threads too where the page is cross-origin isolated; the run's
 * facts say which, and on how many threads.
 */

import { backend, hostBackend, setBackend, withBackend } from '../../src/backend/registry.js';
import type { ImageSet } from '../../src/data/fashionMnist.js';
import { unpackFashion, wireImageSets } from '../../src/data/labWire.js';
import { serializeSafetensors } from '../../src/format/safetensors.js';
import { enableWasmThreads } from '../../src/io/web/threads.js';
import { enableWebGpu } from '../../src/io/web/webgpu.js';
import { divergenceSentence } from '../../src/run/end.js';
import { KeelError } from '../../src/util/errors.js';
import { yieldToEventLoop } from '../../src/util/schedule.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { type EpochPoint, Session } from './session.js';

// The wasm GEMM (and large optimizer steps) split across Worker helpers, on a cross-origin-isolated
// page (keel lab serves one); before any wasm op — the data sets live on wasm even when a GPU trains.
// The default leaves half the cores to the page; on 2 cores it takes both but splits only long
// products (the evaluations'), which trained the Fashion-MNIST preset ~8% faster there than one
// thread, and one as fast as two splitting every product (bench/NOTES.md).
enableWasmThreads();

/** WebGPU where the browser gives an adapter, else the default (wasm). */
const chosen: Promise<void> = enableWebGpu().then(
  () => setBackend('webgpu'),
  () => {},
);

/** Session operations, one at a time (on WebGPU each awaits the GPU: steps must not interleave). */
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(f: () => T | Promise<T>): Promise<T> {
  const p = queue.then(f);
  queue = p.catch(() => {});
  return p;
}

let session: Session | null = null;
let running = false;
/** Play was pressed while the run was still being built (data loading): start when it is ready. */
let playWhenReady = false;
let generation = 0;
const post = (m: FromWorker, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(m, transfer);

/** The progress beat: where the run is, how fast it goes. */
function beat(stepsPerSecond: number, playing: boolean) {
  if (!session) return;
  post({
    type: 'progress',
    step: session.step,
    epoch: session.epoch,
    stepsPerSecond,
    running: playing,
    finished: session.finished,
    diverged: session.divergence ? divergenceSentence(session.divergence) : undefined,
  });
}

/** While playing, the test images' predictions (confusion matrix, mistakes) are redrawn at most this often. */
const PREDICTIONS_MS = 500;
let predictedAt = Number.NEGATIVE_INFINITY;

/**
 * Sends what the page draws. While playing (`live`) the confusion matrix and mistakes are recomputed
 * at most every PREDICTIONS_MS — each is a forward of the 1,000 test images, and snapshots come every
 * 120 ms; a pause, a step or the end of the run recomputes them.
 */
async function snapshot(live = false) {
  const s = session;
  if (!s) return;
  const now = performance.now();
  const predictions = !live || now - predictedAt >= PREDICTIONS_MS;
  if (predictions) predictedAt = now;
  const opts = { predictions };
  post({
    type: 'snapshot',
    snapshot: s.asyncMemory ? await s.snapshotAsync(64, opts) : s.snapshot(64, opts),
  });
}

/** One step of the session (awaited on WebGPU). */
const stepOne = (s: Session) => (s.asyncMemory ? s.stepOnceAsync() : s.stepOnce());

async function stepMany(n: number): Promise<void> {
  const s = session;
  if (!s) return;
  const points: EpochPoint[] = [];
  for (let i = 0; i < n && !s.finished; i++) {
    const p = await stepOne(s);
    if (p) points.push(p);
  }
  if (points.length) post({ type: 'epochs', points });
}

async function loop(gen: number) {
  let lastSnap = 0;
  let t0 = performance.now();
  let steps0 = session?.step ?? 0;
  let points: EpochPoint[] = [];
  let lastBeat = 0;
  while (running && gen === generation && session && !session.finished) {
    const start = performance.now();
    const s = session;
    await serial(async () => {
      while (performance.now() - start < 25 && !s.finished) {
        const p = await stepOne(s);
        if (p) points.push(p);
      }
    });
    const now = performance.now();
    // The page hears from the worker ~10 times a second at most: epochs in bulk, so that a fast run
    // (dozens of epochs a second) does not make the page redraw for each.
    if (now - lastBeat < 100 && !session.finished) {
      // A MessageChannel turn (util/schedule.ts), not setTimeout(0): nested timers are clamped to
      // 4 ms, and this loop sat idle ~1 s of 5 that way (bench/NOTES.md).
      await yieldToEventLoop();
      continue;
    }
    lastBeat = now;
    if (points.length) {
      post({ type: 'epochs', points });
      points = [];
    }
    const rate = ((session.step - steps0) * 1000) / Math.max(now - t0, 1);
    if (now - t0 > 2000) {
      t0 = now;
      steps0 = session.step;
    }
    beat(rate, running);
    if (now - lastSnap > 120) {
      await serial(() => snapshot(true));
      lastSnap = now;
    }
    await yieldToEventLoop();
  }
  if (gen !== generation || !session) return;
  if (points.length) post({ type: 'epochs', points });
  running = false;
  await serial(snapshot);
  beat(0, false);
}

/** Fashion-MNIST subsets fetched so far, by URL. */
const fashionCache = new Map<string, Promise<{ train: ImageSet; test: ImageSet }>>();

async function fashion(url: string): Promise<{ train: ImageSet; test: ImageSet }> {
  let p = fashionCache.get(url);
  if (!p) {
    p = (async () => {
      const res = await fetch(url);
      if (!res.ok)
        throw new KeelError(
          `Fashion-MNIST is not available: ${res.status === 404 ? (await res.text()).split('\n')[0] : `${res.status} ${res.statusText}`} — keel lab serves it from the data directory (sudo apt-get install dataset-fashion-mnist, or keel train --download, then restart keel lab).`,
        );
      // In host memory whatever trains (a GPU session uploads what its compiled steps read).
      const bytes = unpackFashion(new Uint8Array(await res.arrayBuffer()));
      return withBackend(hostBackend(), () => wireImageSets(bytes));
    })();
    fashionCache.set(url, p);
    p.catch(() => fashionCache.delete(url));
  }
  return p;
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === 'configure') {
      const gen = ++generation;
      await chosen;
      running = false;
      playWhenReady = false;
      session = null;
      let images: { train: ImageSet; test: ImageSet } | undefined;
      if (m.config.data.dataset === 'fashion-mnist') {
        const n = m.config.data.limit ?? 5000;
        post({ type: 'loading', message: `loading ${n} Fashion-MNIST images…` });
        images = await fashion(`${m.dataUrl}?train=${n}&test=1000`);
        if (gen !== generation) return;
      }
      await queue;
      if (gen !== generation) return;
      session = new Session(m.config, (alarm) => post({ type: 'alarm', alarm }), images);
      post({ type: 'ready', info: session.info });
      await serial(snapshot);
      beat(0, false);
      if (playWhenReady) {
        playWhenReady = false;
        running = true;
        void loop(generation);
      }
    } else if (m.type === 'play') {
      if (!session) {
        playWhenReady = true;
        return;
      }
      if (running) return;
      running = true;
      void loop(generation);
    } else if (m.type === 'pause') {
      running = false;
      playWhenReady = false;
    } else if (m.type === 'step') {
      if (!session) return;
      running = false;
      await serial(() => stepMany(m.steps));
      await serial(snapshot);
      beat(0, false);
    } else if (m.type === 'weights') {
      if (!session) return;
      const s = session;
      // On WebGPU the weights are copied to the host first.
      const bytes = await serial(async () => {
        await backend().sync?.();
        return serializeSafetensors(s.stateDict(), { format: 'pt' });
      });
      post({ type: 'weights', bytes }, [bytes.buffer]);
    }
  } catch (err) {
    running = false;
    post({ type: 'error', message: (err as Error)?.message ?? String(err) });
  }
};
