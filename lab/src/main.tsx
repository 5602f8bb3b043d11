/**
 * keel lab: the chapter as a live page. The settings (a RunConfig, in the URL) go to a Web Worker
 * that trains with keel (worker.ts); what it sends back goes through one reducer (reducer.ts) into
 * the state the views draw (views/): curves, the decision surface, gradient norms and activation
 * histograms with the diagnostics' alarms, ‖w‖ and the weights' histogram, the graph of one training
 * step and the memory it keeps. A run can be pinned to compare the next one against it; presets set
 * up the chapter's experiments; curves export as CSV and PNG, weights as safetensors.
 */
import { render } from 'preact';
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import type { RunConfig } from '../../src/run/config.js';
import { Controls } from './controls.js';
import { renderDot } from './graph.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { initialState, reduce } from './reducer.js';
import { fromQuery, toQuery } from './state.js';
import { describeRun, download } from './views/files.js';
import { Header, Notice, PresetText } from './views/Header.js';
import { Curves, Diagnostics, Graph, type Pinned, Predictions, Weights } from './views/Panels.js';
import { TrainingBar } from './views/TrainingBar.js';
import './style.css';

// The worker (keel and its wasm kernels: most of the page's code) starts after the first paint, so
// that compiling it does not hold up the page; messages sent before then wait for it.
let worker: Worker | null = null;
const queued: ToWorker[] = [];
let onWorkerMessage: ((m: FromWorker) => void) | null = null;
function startWorker() {
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onWorkerMessage?.(e.data);
  for (const m of queued.splice(0)) worker.postMessage(m);
}
const send = (m: ToWorker) => (worker ? worker.postMessage(m) : queued.push(m));
/** Where keel lab serves Fashion-MNIST, relative to this page. */
const DATA_URL = new URL('data/fashion-mnist.bin', location.href.split('?')[0]).href;

function App() {
  const initial = useMemo(() => fromQuery(location.search.slice(1)), []);
  const [config, setConfig] = useState<RunConfig>(initial.config);
  const [state, dispatch] = useReducer(reduce, initial.error, initialState);
  const [pinned, setPinned] = useState<Pinned | null>(null);
  const [graphSvg, setGraphSvg] = useState<string>('');

  // Worker messages: into the state, and the two effects some of them have.
  useEffect(() => {
    onWorkerMessage = (m) => {
      dispatch(m);
      if (m.type === 'ready')
        renderDot(m.info.dot).then(setGraphSvg, (err) => setGraphSvg(`<p>graph: ${String(err)}</p>`));
      else if (m.type === 'weights')
        download('keel-lab.safetensors', new Uint8Array(m.bytes), 'application/octet-stream');
    };
  }, []);

  // A new configuration: into the URL, and a fresh run.
  useEffect(() => {
    const q = toQuery(config);
    window.history.replaceState(null, '', q ? `?${q}` : location.pathname);
    dispatch({ type: 'reconfigure' });
    send({ type: 'configure', config, dataUrl: DATA_URL });
  }, [config]);

  const reset = () => {
    dispatch({ type: 'reconfigure' });
    send({ type: 'configure', config, dataUrl: DATA_URL });
  };
  const notice = (n?: string) => dispatch({ type: 'notice', notice: n });

  return (
    <main>
      <Header onPreset={setConfig} />
      {state.info && <p class="backend">Training on {state.info.backend}</p>}
      <Notice notice={state.notice} onDismiss={() => notice(undefined)} />
      <PresetText config={config} />
      <TrainingBar
        state={state}
        epochs={config.epochs}
        pinned={pinned !== null}
        send={send}
        onReset={reset}
        onPin={() => setPinned({ label: describeRun(config), history: state.history })}
        onUnpin={() => setPinned(null)}
      />
      <div class="layout">
        <Controls config={config} onChange={setConfig} onError={notice} />
        <div class="views">
          <Curves history={state.history} pinned={pinned} />
          <Predictions state={state} fashion={config.data.dataset === 'fashion-mnist'} />
          <Diagnostics state={state} />
          <Weights state={state} />
          <Graph state={state} svg={graphSvg} />
        </div>
      </div>
    </main>
  );
}

const root = document.getElementById('app');
if (root) {
  render(<App />, root);
  requestAnimationFrame(() => setTimeout(startWorker, 0));
}
