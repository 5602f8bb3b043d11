/**
 * The training bar: Train/Pause/Resume, Step, Reset, Pin and Unpin, the status line (step, epoch,
 * loss, steps per second, time left, and a divergence's diagnosis or "done"), and the exports.
 */
import { formatNumber } from '../../../src/util/number.js';
import type { ToWorker } from '../protocol.js';
import type { LabState } from '../reducer.js';
import { curvesCsv, download, exportPng } from './files.js';

export function TrainingBar(p: {
  state: LabState;
  epochs: number;
  pinned: boolean;
  send: (m: ToWorker) => void;
  onReset: () => void;
  onPin: () => void;
  onUnpin: () => void;
}) {
  const { progress, ready, history, snap, info } = p.state;
  const playing = progress.running;
  const totalSteps = info ? info.batchesPerEpoch * p.epochs : 0;
  const eta = progress.stepsPerSecond > 0 ? (totalSteps - progress.step) / progress.stepsPerSecond : null;
  return (
    <section class="bar" aria-label="training">
      <button
        type="button"
        id="play"
        onClick={() => p.send({ type: playing ? 'pause' : 'play' })}
        disabled={progress.finished || !ready}
      >
        {playing ? 'Pause' : progress.step === 0 ? 'Train' : 'Resume'}
      </button>
      <button
        type="button"
        id="step"
        onClick={() => p.send({ type: 'step', steps: 1 })}
        disabled={playing || progress.finished || !ready}
      >
        Step
      </button>
      <button type="button" id="reset" onClick={p.onReset}>
        Reset
      </button>
      <button type="button" id="pin" onClick={p.onPin} disabled={!history.length}>
        Pin this run
      </button>
      {p.pinned ? (
        <button type="button" onClick={p.onUnpin}>
          Unpin
        </button>
      ) : null}
      <span class="status" id="status" aria-live="polite">
        step <b id="step-count">{progress.step}</b> · epoch {Math.min(progress.epoch, p.epochs)}/{p.epochs} ·
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
        <button type="button" onClick={() => p.send({ type: 'weights' })}>
          Weights (safetensors)
        </button>
        <button type="button" onClick={() => navigator.clipboard?.writeText(location.href)}>
          Copy link
        </button>
      </span>
    </section>
  );
}
