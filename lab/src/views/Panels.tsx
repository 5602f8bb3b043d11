/**
 * The page's panels, each drawing a part of the run's state: the loss and accuracy curves (this run
 * solid, a pinned one dotted), what the network predicts (the decision surface of a 2-D set, or
 * Fashion-MNIST's confusion matrix and most confident mistakes), the gradients and activations with
 * the diagnostics' alarms, the weights, and the graph of one training step with its memory.
 */
import { PALETTE } from '../../../src/report/bins.js';
import { formatNumber } from '../../../src/util/number.js';
import { Confusion, Histogram, LineChart, Mistakes, Surface } from '../charts.js';
import type { LabState } from '../reducer.js';
import type { EpochPoint } from '../session.js';
import { bytes } from './files.js';

/** A run kept for comparison. */
export interface Pinned {
  label: string;
  history: EpochPoint[];
}

/** The series and data of the loss or accuracy chart. */
function curve(history: EpochPoint[], pinned: Pinned | null, key: 'Loss' | 'Accuracy') {
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
}

const num = (x: number | undefined) => formatNumber(x, 4, 'significant');

export function Curves(p: { history: EpochPoint[]; pinned: Pinned | null }) {
  const loss = curve(p.history, p.pinned, 'Loss');
  const acc = curve(p.history, p.pinned, 'Accuracy');
  const last = p.history[p.history.length - 1];
  return (
    <section class="panel" aria-label="curves" id="curves">
      <LineChart
        title="Loss"
        xLabel="epoch"
        yLabel="cross-entropy"
        series={loss.series}
        data={loss.data}
        log
      />
      <LineChart title="Accuracy" xLabel="epoch" yLabel="accuracy" series={acc.series} data={acc.data} />
      <p class="numbers">
        {last
          ? `epoch ${last.epoch}: train loss ${num(last.trainLoss)} (accuracy ${num(last.trainAccuracy)}) · test loss ${num(last.testLoss)} (accuracy ${num(last.testAccuracy)}) · gap ${num(last.testLoss - last.trainLoss)}`
          : 'Press Train: the curves appear after the first epoch.'}
      </p>
    </section>
  );
}

export function Predictions(p: { state: LabState; fashion: boolean }) {
  const { snap, info } = p.state;
  if (p.fashion)
    return (
      <section class="panel" aria-label="confusion matrix and mistakes" id="fashion">
        <h2>What the network predicts on the test images</h2>
        <Confusion matrix={snap?.confusion} />
        <h2>Its most confident mistakes</h2>
        <Mistakes mistakes={snap?.mistakes ?? []} />
      </section>
    );
  return (
    <section class="panel" aria-label="decision surface">
      <h2>What the network predicts</h2>
      <Surface surface={snap?.surface} points={info?.points} />
      <p class="legend">
        ● training · ◆ validation · × test — colour: the most probable class, paler where unsure
      </p>
    </section>
  );
}

export function Diagnostics(p: { state: LabState }) {
  const { alarms, gradTrace, snap } = p.state;
  const gradNames = Object.keys(gradTrace.byName);
  return (
    <section class="panel" aria-label="diagnostics" id="diagnostics">
      <h2>Gradients and activations</h2>
      <ul class="alarms" id="alarms" aria-live="polite">
        {alarms.length === 0 ? <li class="ok">No alarm: gradients and activations look healthy.</li> : null}
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
  );
}

export function Weights(p: { state: LabState }) {
  const { snap, weightTrace } = p.state;
  return (
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
  );
}

export function Graph(p: { state: LabState; svg: string }) {
  const { info } = p.state;
  return (
    <section class="panel" aria-label="computational graph">
      <h2>One training step's graph</h2>
      <p>
        {info
          ? `${info.parameters} parameters · a training forward of ${info.memory.batch} samples keeps ${bytes(info.memory.training)} for backward; a prediction keeps ${bytes(info.memory.prediction)}.`
          : ''}
      </p>
      <div class="graph" dangerouslySetInnerHTML={{ __html: p.svg }} />
    </section>
  );
}
