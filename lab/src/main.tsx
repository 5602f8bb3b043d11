/**
 * keel lab: the chapter as a live page. The settings (a RunConfig, in the URL) go to a Web Worker
 * that trains with keel (worker.ts); the page draws what it sends back: curves, the decision surface,
 * gradient norms and activation histograms with the diagnostics' alarms, ‖w‖ and the weights'
 * histogram, the graph of one training step and the memory it keeps. A run can be pinned to compare
 * the next one against it; presets set up the chapter's experiments; curves export as CSV and PNG,
 * weights as safetensors.
 */
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Alarm } from '../../src/diagnostics/index.js';
import { PALETTE } from '../../src/report/bins.js';
import type { RunConfig } from '../../src/run/config.js';
import { formatNumber } from '../../src/util/number.js';
import { Confusion, Histogram, LineChart, Mistakes, Surface } from './charts.js';
import { Controls } from './controls.js';
import { renderDot } from './graph.js';
import type { FromWorker, ToWorker } from './protocol.js';
import type { EpochPoint, RunInfo, Snapshot } from './session.js';
import { fromQuery, PRESETS, toQuery } from './state.js';
import './style.css';

interface Pinned {
  label: string;
  history: EpochPoint[];
}

// The worker (keel and its wasm kernels: most of the page's code) starts after the first paint, so
// that compiling it does not hold up the page; messages sent before then wait for it.
let worker: Worker | null = null;
const queued: ToWorker[] = [];
let onWorkerMessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
function startWorker() {
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e) => onWorkerMessage?.(e);
  for (const m of queued.splice(0)) worker.postMessage(m);
}
const send = (m: ToWorker) => (worker ? worker.postMessage(m) : queued.push(m));
/** Where keel lab serves Fashion-MNIST, relative to this page. */
const DATA_URL = new URL('data/fashion-mnist.bin', location.href.split('?')[0]).href;

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(2)} MiB`;
}

function download(name: string, data: BlobPart, type: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function curvesCsv(h: EpochPoint[]): string {
  const cols = [
    'epoch',
    'step',
    'trainLoss',
    'trainAccuracy',
    'valLoss',
    'valAccuracy',
    'testLoss',
    'testAccuracy',
  ] as const;
  return `${cols.join(',')}\n${h.map((p) => cols.map((c) => p[c] ?? '').join(',')).join('\n')}\n`;
}

function App() {
  const initial = useMemo(() => fromQuery(location.search.slice(1)), []);
  const [config, setConfig] = useState<RunConfig>(initial.config);
  const [notice, setNotice] = useState<string | undefined>(initial.error);
  const [info, setInfo] = useState<RunInfo | null>(null);
  const [history, setHistory] = useState<EpochPoint[]>([]);
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const [progress, setProgress] = useState<Omit<Extract<FromWorker, { type: 'progress' }>, 'type'>>({
    step: 0,
    epoch: 1,
    stepsPerSecond: 0,
    running: false,
    finished: false,
  });
  const [pinned, setPinned] = useState<Pinned | null>(null);
  /** The worker has built the current configuration's run. */
  const [ready, setReady] = useState(false);
  const [graphSvg, setGraphSvg] = useState<string>('');
  const [weightTrace, setWeightTrace] = useState<[number[], number[]]>([[], []]);
  const [gradTrace, setGradTrace] = useState<{ steps: number[]; byName: Record<string, (number | null)[]> }>({
    steps: [],
    byName: {},
  });
  const historyRef = useRef<EpochPoint[]>([]);

  // Worker messages.
  useEffect(() => {
    onWorkerMessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'ready') {
        setNotice((n) => (n?.startsWith('loading') ? undefined : n));
        setReady(true);
        setInfo(m.info);
        historyRef.current = [];
        setHistory([]);
        setAlarms([]);
        setWeightTrace([[], []]);
        setGradTrace({ steps: [], byName: {} });
        renderDot(m.info.dot).then(setGraphSvg, (err) => setGraphSvg(`<p>graph: ${String(err)}</p>`));
      } else if (m.type === 'epochs') {
        historyRef.current = [...historyRef.current, ...m.points];
        setHistory(historyRef.current);
      } else if (m.type === 'snapshot') {
        const s = m.snapshot;
        setSnap(s);
        setWeightTrace(([xs, ys]) =>
          xs[xs.length - 1] === s.step
            ? [xs, ys]
            : [
                [...xs, s.step],
                [...ys, s.weights.norm],
              ],
        );
        setGradTrace((g) => {
          if (g.steps[g.steps.length - 1] === s.step) return g;
          const byName = { ...g.byName };
          for (const { name } of s.gradNorms) if (!byName[name]) byName[name] = g.steps.map(() => null);
          for (const name of Object.keys(byName))
            byName[name] = [...byName[name], s.gradNorms.find((x) => x.name === name)?.norm ?? null];
          return { steps: [...g.steps, s.step], byName };
        });
      } else if (m.type === 'progress') {
        setProgress(m);
      } else if (m.type === 'alarm') {
        setAlarms((a) => [...a, m.alarm]);
      } else if (m.type === 'weights') {
        download('keel-lab.safetensors', new Uint8Array(m.bytes), 'application/octet-stream');
      } else if (m.type === 'loading') {
        setNotice(m.message);
      } else if (m.type === 'error') {
        setNotice(m.message.startsWith('Fashion-MNIST') ? m.message : `training stopped: ${m.message}`);
      }
    };
  }, []);

  // A new configuration: into the URL, and a fresh run.
  useEffect(() => {
    const q = toQuery(config);
    window.history.replaceState(null, '', q ? `?${q}` : location.pathname);
    setReady(false);
    send({ type: 'configure', config, dataUrl: DATA_URL });
  }, [config]);

  const setAndReset = (c: RunConfig) => setConfig(c);
  const reset = () => {
    setReady(false);
    send({ type: 'configure', config, dataUrl: DATA_URL });
  };
  const playing = progress.running;
  const epochs = config.epochs;
  const totalSteps = info ? info.batchesPerEpoch * epochs : 0;
  const eta = progress.stepsPerSecond > 0 ? (totalSteps - progress.step) / progress.stepsPerSecond : null;

  // Curves: this run solid, the pinned one dashed.
  const curve = (key: 'Loss' | 'Accuracy') => {
    const xs = history.map((p) => p.epoch);
    const pinX = pinned?.history.map((p) => p.epoch) ?? [];
    const allX = [...new Set([...xs, ...pinX])].sort((a, b) => a - b);
    const at = (h: EpochPoint[], field: keyof EpochPoint) => {
      const m = new Map(h.map((p) => [p.epoch, p[field] as number | undefined]));
      return allX.map((x) => m.get(x) ?? null);
    };
    const series = [
      { label: 'train', color: '#4c78a8' },
      { label: 'validation', color: '#54a24b', dash: [2, 3] },
      { label: 'test', color: '#e45756', dash: [8, 4] },
    ];
    const fields = [`train${key}`, `val${key}`, `test${key}`] as (keyof EpochPoint)[];
    const data: (number | null)[][] = [allX, ...fields.map((f) => at(history, f))];
    const all = [...series];
    if (pinned) {
      all.push(
        { label: `train (pinned: ${pinned.label})`, color: '#9ab7d3', dash: [1, 3] },
        { label: `test (pinned: ${pinned.label})`, color: '#f2a3a3', dash: [1, 3] },
      );
      data.push(at(pinned.history, fields[0]), at(pinned.history, fields[2]));
    }
    return { series: all, data };
  };
  const lossCurve = curve('Loss');
  const accCurve = curve('Accuracy');
  const gradNames = Object.keys(gradTrace.byName);
  const last = history[history.length - 1];

  return (
    <main>
      <header>
        <h1>keel lab</h1>
        <p class="tagline">
          Train a network in your browser and watch it overfit, regularize, vanish and explode.
        </p>
        <nav class="presets" aria-label="presets">
          {PRESETS.map((p) => (
            <button
              type="button"
              key={p.id}
              data-preset={p.id}
              title={p.text.join(' ')}
              onClick={() => setAndReset(p.config)}
            >
              {p.name}
            </button>
          ))}
        </nav>
      </header>
      {notice ? (
        <p class="notice" role="status">
          {notice}{' '}
          <button type="button" onClick={() => setNotice(undefined)} aria-label="dismiss">
            ×
          </button>
        </p>
      ) : null}
      <PresetText config={config} />
      <section class="bar" aria-label="training">
        <button
          type="button"
          id="play"
          onClick={() => send({ type: playing ? 'pause' : 'play' })}
          disabled={progress.finished || !ready}
        >
          {playing ? 'Pause' : progress.step === 0 ? 'Train' : 'Resume'}
        </button>
        <button
          type="button"
          id="step"
          onClick={() => send({ type: 'step', steps: 1 })}
          disabled={playing || progress.finished || !ready}
        >
          Step
        </button>
        <button type="button" id="reset" onClick={reset}>
          Reset
        </button>
        <button
          type="button"
          id="pin"
          onClick={() => setPinned({ label: describeRun(config), history: historyRef.current })}
          disabled={!history.length}
        >
          Pin this run
        </button>
        {pinned ? (
          <button type="button" onClick={() => setPinned(null)}>
            Unpin
          </button>
        ) : null}
        <span class="status" id="status" aria-live="polite">
          step <b id="step-count">{progress.step}</b> · epoch {Math.min(progress.epoch, epochs)}/{epochs} ·
          loss <b id="loss">{formatNumber(snap?.loss, 4, 'significant')}</b> ·{' '}
          {Math.round(progress.stepsPerSecond)} steps/s
          {eta !== null && playing ? ` · ${Math.ceil(eta)} s left` : ''}
          {progress.diverged ? (
            <b class="diverged"> · {progress.diverged}</b>
          ) : progress.finished ? (
            ' · done'
          ) : (
            ''
          )}
        </span>
        <span class="exports">
          <button
            type="button"
            onClick={() => download('keel-lab-curves.csv', curvesCsv(history), 'text/csv')}
            disabled={!history.length}
          >
            Curves CSV
          </button>
          <button type="button" onClick={() => exportPng()}>
            Curves PNG
          </button>
          <button type="button" onClick={() => send({ type: 'weights' })}>
            Weights (safetensors)
          </button>
          <button type="button" onClick={() => navigator.clipboard?.writeText(location.href)}>
            Copy link
          </button>
        </span>
      </section>
      <div class="layout">
        <Controls config={config} onChange={setAndReset} onError={setNotice} />
        <div class="views">
          <section class="panel" aria-label="curves" id="curves">
            <LineChart
              title="Loss"
              xLabel="epoch"
              yLabel="cross-entropy"
              series={lossCurve.series}
              data={lossCurve.data}
              log
            />
            <LineChart
              title="Accuracy"
              xLabel="epoch"
              yLabel="accuracy"
              series={accCurve.series}
              data={accCurve.data}
            />
            <p class="numbers">
              {last
                ? `epoch ${last.epoch}: train loss ${formatNumber(last.trainLoss, 4, 'significant')} (accuracy ${formatNumber(last.trainAccuracy, 4, 'significant')}) · test loss ${formatNumber(last.testLoss, 4, 'significant')} (accuracy ${formatNumber(last.testAccuracy, 4, 'significant')}) · gap ${formatNumber(last.testLoss - last.trainLoss, 4, 'significant')}`
                : 'Press Train: the curves appear after the first epoch.'}
            </p>
          </section>
          {config.data.dataset === 'fashion-mnist' ? (
            <section class="panel" aria-label="confusion matrix and mistakes" id="fashion">
              <h2>What the network predicts on the test images</h2>
              <Confusion matrix={snap?.confusion} />
              <h2>Its most confident mistakes</h2>
              <Mistakes mistakes={snap?.mistakes ?? []} />
            </section>
          ) : (
            <section class="panel" aria-label="decision surface">
              <h2>What the network predicts</h2>
              <Surface surface={snap?.surface} points={info?.points} />
              <p class="legend">
                ● training · ◆ validation · × test — colour: the most probable class, paler where unsure
              </p>
            </section>
          )}
          <section class="panel" aria-label="diagnostics" id="diagnostics">
            <h2>Gradients and activations</h2>
            <ul class="alarms" id="alarms" aria-live="polite">
              {alarms.length === 0 ? (
                <li class="ok">No alarm: gradients and activations look healthy.</li>
              ) : null}
              {alarms.map((a) => (
                <li key={`${a.kind}:${a.where.join(',')}`} data-kind={a.kind}>
                  <b>⚠ {a.kind}</b> (epoch {a.epoch}, step {a.step}): {a.message}
                  <br />
                  <span class="fix">Try: {a.suggestion}</span>
                </li>
              ))}
            </ul>
            <LineChart
              title="Gradient norm per weight matrix"
              xLabel="step"
              yLabel="‖∇W‖"
              series={gradNames.map((n, i) => ({ label: n, color: PALETTE[i % PALETTE.length] }))}
              data={[gradTrace.steps, ...gradNames.map((n) => gradTrace.byName[n])]}
              log
            />
            <div class="hists">
              {(snap?.activations ?? []).map((a) => (
                <Histogram
                  key={a.layer}
                  title={a.layer}
                  edges={a.edges}
                  counts={a.counts}
                  note={
                    a.dead
                      ? `${Math.round(100 * a.dead)}% dead`
                      : a.saturated
                        ? `${Math.round(100 * a.saturated)}% saturated`
                        : undefined
                  }
                  warn
                />
              ))}
            </div>
          </section>
          <section class="panel" aria-label="weights">
            <h2>Weights</h2>
            <LineChart
              title="‖w‖ of the weight matrices"
              xLabel="step"
              yLabel="‖w‖"
              series={[{ label: '‖w‖', color: '#b279a2' }]}
              data={weightTrace}
            />
            {snap ? (
              <Histogram
                title="weights"
                edges={snap.weights.edges}
                counts={snap.weights.counts}
                note={`${snap.weights.zeros} of ${snap.weights.total} exactly 0`}
                width={300}
              />
            ) : null}
          </section>
          <section class="panel" aria-label="computational graph">
            <h2>One training step's graph</h2>
            <p>
              {info
                ? `${info.parameters} parameters · a training forward of ${info.memory.batch} samples keeps ${bytes(info.memory.training)} for backward; a prediction keeps ${bytes(info.memory.prediction)}.`
                : ''}
            </p>
            <div class="graph" dangerouslySetInnerHTML={{ __html: graphSvg }} />
          </section>
        </div>
      </div>
    </main>
  );
}

function describeRun(c: RunConfig): string {
  const p = PRESETS.find((x) => JSON.stringify(x.config) === JSON.stringify(c));
  if (p) return p.name;
  const bits = [c.model.activation, c.model.hidden.join('-'), c.optimizer.name];
  if (c.optimizer.weightDecay) bits.push(`λ ${c.optimizer.weightDecay}`);
  const d = c.model.dropout;
  if (Array.isArray(d) ? d.some((v) => v > 0) : d > 0)
    bits.push(`dropout ${Array.isArray(d) ? d.join('/') : d}`);
  return bits.join(', ');
}

function PresetText(p: { config: RunConfig }) {
  const preset = PRESETS.find((x) => JSON.stringify(x.config) === JSON.stringify(p.config));
  if (!preset) return null;
  return (
    <aside class="preset-text" id="preset-text">
      <b>{preset.name}.</b> {preset.text[0]} <em>{preset.text[1]}</em>
    </aside>
  );
}

/** The two curve charts side by side as one PNG. */
function exportPng() {
  const canvases = [...document.querySelectorAll<HTMLCanvasElement>('#curves canvas')];
  if (!canvases.length) return;
  const w = canvases.reduce((s, c) => s + c.width, 0);
  const h = Math.max(...canvases.map((c) => c.height));
  const out = document.createElement('canvas');
  out.width = w;
  out.height = h;
  const ctx = out.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  let x = 0;
  for (const c of canvases) {
    ctx.drawImage(c, x, 0);
    x += c.width;
  }
  out.toBlob((b) => b && download('keel-lab-curves.png', b, 'image/png'));
}

const root = document.getElementById('app');
if (root) {
  render(<App />, root);
  requestAnimationFrame(() => setTimeout(startWorker, 0));
}
