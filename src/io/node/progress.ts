/**
 * Progress on the terminal: a cli-progress bar (epoch, batch, loss, samples/s, ETA) when stdout is a
 * TTY, plain log lines otherwise (one per epoch, so CI logs stay readable).
 */
import cliProgress from 'cli-progress';
import type { BatchInfo, EpochRecord, ProgressSink } from '../../train/fit.js';

function epochLine(r: EpochRecord): string {
  const parts = [`epoch ${r.epoch}`, `train loss ${r.trainLoss.toFixed(4)}`];
  if (r.trainAccuracy !== undefined) parts.push(`train acc ${r.trainAccuracy.toFixed(4)}`);
  if (r.valLoss !== undefined) parts.push(`val loss ${r.valLoss.toFixed(4)}`);
  if (r.valAccuracy !== undefined) parts.push(`val acc ${r.valAccuracy.toFixed(4)}`);
  if (r.testLoss !== undefined) parts.push(`test loss ${r.testLoss.toFixed(4)}`);
  if (r.testAccuracy !== undefined) parts.push(`test acc ${r.testAccuracy.toFixed(4)}`);
  parts.push(
    `lr ${r.lr.toPrecision(3)}`,
    `${r.seconds.toFixed(1)} s`,
    `${Math.round(r.samplesPerSecond)} samples/s`,
  );
  return parts.join(' | ');
}

/** A progress sink for the terminal (`tty` decides bar vs lines). */
export function terminalProgress(
  log: (line: string) => void,
  tty = Boolean(process.stdout.isTTY),
): ProgressSink {
  if (!tty) {
    return {
      epochStart() {},
      batch() {},
      epochEnd: (r) => log(epochLine(r)),
    };
  }
  let bar: cliProgress.SingleBar | null = null;
  let started = 0;
  return {
    epochStart(epoch, epochs, batches) {
      bar = new cliProgress.SingleBar(
        {
          format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} batches | loss {loss} | {speed} samples/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      started = performance.now();
      bar.start(batches, 0, { loss: '-', speed: '-' });
    },
    batch(info: BatchInfo) {
      const secs = (performance.now() - started) / 1000;
      bar?.update(info.batch, {
        loss: info.loss.toFixed(4),
        speed: Math.round(info.samples / Math.max(secs, 1e-9)),
      });
    },
    epochEnd(r) {
      bar?.stop();
      bar = null;
      log(epochLine(r));
    },
  };
}
