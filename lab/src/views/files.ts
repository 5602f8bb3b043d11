/**
 * What the page hands the learner as files — the curves as CSV and as one PNG of both charts, the
 * weights as safetensors — and the few texts it makes of numbers and configurations.
 */
import type { RunConfig } from '../../../src/run/config.js';
import type { EpochPoint } from '../session.js';
import { PRESETS } from '../state.js';

/** `512 B`, `3.2 KiB`, `1.25 MiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(2)} MiB`;
}

/** Saves `data` as a file named `name`. */
export function download(name: string, data: BlobPart, type: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** The epochs as CSV, one row each. */
export function curvesCsv(h: EpochPoint[]): string {
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

/** The two curve charts side by side as one PNG. */
export function exportPng() {
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

/** A run's name for the pinned curves: its preset's, or its main settings. */
export function describeRun(c: RunConfig): string {
  const p = PRESETS.find((x) => JSON.stringify(x.config) === JSON.stringify(c));
  if (p) return p.name;
  const bits = [c.model.activation, c.model.hidden.join('-'), c.optimizer.name];
  if (c.optimizer.weightDecay) bits.push(`λ ${c.optimizer.weightDecay}`);
  const d = c.model.dropout;
  if (Array.isArray(d) ? d.some((v) => v > 0) : d > 0)
    bits.push(`dropout ${Array.isArray(d) ? d.join('/') : d}`);
  const hn = c.model.noise;
  if (Array.isArray(hn) ? hn.some((v) => v > 0) : hn > 0)
    bits.push(`hidden noise ${Array.isArray(hn) ? hn.join('/') : hn}`);
  const t = c.data.transforms;
  if (t.translate) bits.push(`shift ±${t.translate}`);
  if (t.flip) bits.push(`flip ${t.flip}`);
  if (t.erase) bits.push(`erase ${t.erase}`);
  if (t.noise) bits.push(`input noise ${t.noise}`);
  return bits.join(', ');
}
