/**
 * The lab's pictures: live line charts (uPlot: fast enough to redraw every snapshot), the decision
 * surface with the data points (a canvas), small histograms and bar rows (canvases). Each is a
 * Preact component that draws into its own element and redraws when its data changes.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { FASHION_MNIST_CLASSES as CLASS_NAMES } from '../../src/data/fashionMnist.js';
import { formatNumber } from '../../src/util/number.js';
import 'uplot/dist/uPlot.min.css';

/** Class colours (the same in the surface and the points): blue, orange, green. */
export const CLASS_COLORS: [number, number, number][] = [
  [76, 120, 168],
  [245, 133, 24],
  [84, 162, 75],
];

export interface LineSeries {
  label: string;
  color: string;
  dash?: number[];
  width?: number;
}

/** A live line chart: `data[0]` is x, then one array per series (null: no point). */
export function LineChart(p: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  data: (number | null)[][];
  log?: boolean;
  width?: number;
  height?: number;
  id?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = JSON.stringify([p.series, p.log, p.title]);
  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      title: p.title,
      width: p.width ?? 420,
      height: p.height ?? 220,
      scales: { x: { time: false }, y: p.log ? { distr: 3 } : {} },
      axes: [{ label: p.xLabel }, { label: p.yLabel, size: 60 }],
      series: [
        { label: p.xLabel },
        ...p.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          dash: s.dash,
          width: s.width ?? 2,
          spanGaps: true,
        })),
      ],
      legend: { live: false },
    };
    plot.current = new uPlot(opts, p.data as uPlot.AlignedData, el.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => {
    plot.current?.setData(p.data as uPlot.AlignedData);
  }, [p.data]);
  return <div class="chart" ref={el} id={p.id} role="img" aria-label={p.title} />;
}

/** The model's class probabilities over the plane, with the points (train ●, validation ◆, test ×). */
export function Surface(p: {
  surface?: { grid: number; classes: number; extent: [number, number, number, number]; probs: Float32Array };
  points?: { x: Float32Array; y: Float32Array; label: Int32Array; split: Uint8Array };
  size?: number;
}) {
  const el = useRef<HTMLCanvasElement>(null);
  const size = p.size ?? 360;
  useEffect(() => {
    const c = el.current;
    const s = p.surface;
    if (!c || !s) return;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const { grid, classes, probs, extent } = s;
    if (!probs.every(Number.isFinite)) {
      // A diverged model predicts NaN everywhere: say so instead of painting it black.
      ctx.fillStyle = '#f3f4f6';
      ctx.fillRect(0, 0, size, size);
      ctx.fillStyle = '#b91c1c';
      ctx.font = '16px sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText('the model outputs NaN: nothing to draw', size / 2, size / 2);
      return;
    }
    const img = ctx.createImageData(grid, grid);
    for (let i = 0; i < grid * grid; i++) {
      // The most probable class's colour, paler where the model is unsure.
      let best = 0;
      for (let k = 1; k < classes; k++) if (probs[i * classes + k] > probs[i * classes + best]) best = k;
      const conf = (probs[i * classes + best] - 1 / classes) / (1 - 1 / classes);
      const [r, g, b] = CLASS_COLORS[best % CLASS_COLORS.length];
      const a = 0.15 + 0.6 * Math.max(0, Math.min(1, conf));
      img.data[4 * i] = Math.round(255 - a * (255 - r));
      img.data[4 * i + 1] = Math.round(255 - a * (255 - g));
      img.data[4 * i + 2] = Math.round(255 - a * (255 - b));
      img.data[4 * i + 3] = 255;
    }
    const off = new OffscreenCanvas(grid, grid);
    off.getContext('2d')?.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, size, size);
    const pts = p.points;
    if (!pts) return;
    const [x0, x1, y0, y1] = extent;
    for (let i = 0; i < pts.label.length; i++) {
      const px = ((pts.x[i] - x0) / (x1 - x0)) * size;
      const py = (1 - (pts.y[i] - y0) / (y1 - y0)) * size;
      const [r, g, b] = CLASS_COLORS[pts.label[i] % CLASS_COLORS.length];
      ctx.strokeStyle = '#111827';
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.lineWidth = 1;
      if (pts.split[i] === 2) {
        ctx.strokeStyle = `rgb(${r},${g},${b})`;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(px - 3, py - 3);
        ctx.lineTo(px + 3, py + 3);
        ctx.moveTo(px + 3, py - 3);
        ctx.lineTo(px - 3, py + 3);
        ctx.stroke();
      } else if (pts.split[i] === 1) {
        ctx.beginPath();
        ctx.moveTo(px, py - 4);
        ctx.lineTo(px + 4, py);
        ctx.lineTo(px, py + 4);
        ctx.lineTo(px - 4, py);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      } else {
        ctx.beginPath();
        ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
  }, [p.surface, p.points, size]);
  return (
    <canvas
      ref={el}
      width={size}
      height={size}
      class="surface"
      role="img"
      aria-label="decision surface: the model's most probable class over the plane, with training points (dots), validation points (diamonds) and test points (crosses)"
    />
  );
}

/** A small histogram: bars over `edges`, optional marker text. */
export function Histogram(p: {
  title: string;
  edges: number[];
  counts: number[];
  note?: string;
  /** Show the note as a warning (dead or saturated units). */
  warn?: boolean;
  width?: number;
  height?: number;
}) {
  const el = useRef<HTMLCanvasElement>(null);
  const w = p.width ?? 200;
  const h = p.height ?? 90;
  useEffect(() => {
    const c = el.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    ctx.clearRect(0, 0, w, h);
    const max = Math.max(1, ...p.counts);
    const bw = (w - 2) / Math.max(1, p.counts.length);
    ctx.fillStyle = '#4c78a8';
    p.counts.forEach((n, i) => {
      const bh = (n / max) * (h - 16);
      ctx.fillRect(1 + i * bw, h - 14 - bh, Math.max(1, bw - 1), bh);
    });
    ctx.fillStyle = '#374151';
    ctx.font = '10px sans-serif';
    if (p.edges.length) {
      ctx.textAlign = 'left';
      ctx.fillText(formatNumber(p.edges[0], 4, 'significant'), 1, h - 2);
      ctx.textAlign = 'right';
      ctx.fillText(formatNumber(p.edges[p.edges.length - 1], 4, 'significant'), w - 1, h - 2);
    }
  }, [p.edges, p.counts, w, h]);
  return (
    <figure class="hist">
      <figcaption>
        {p.title}
        {p.note ? <span class={p.warn ? 'note warn' : 'note'}> {p.note}</span> : null}
      </figcaption>
      <canvas ref={el} width={w} height={h} role="img" aria-label={`histogram of ${p.title}`} />
    </figure>
  );
}

/** A confusion matrix as a table: rows the true class, columns the predicted one, shaded by row share. */
export function Confusion(p: { matrix?: number[][] }) {
  if (!p.matrix) return <p>Press Train: the matrix appears with the first snapshot.</p>;
  const m = p.matrix;
  return (
    <table
      class="confusion"
      aria-label="confusion matrix: rows are the true classes, columns the predicted ones"
    >
      <thead>
        <tr>
          <th scope="col">true ↓ predicted →</th>
          {m.map((_, j) => (
            <th scope="col" key={j} title={CLASS_NAMES[j]}>
              {j}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {m.map((row, i) => {
          const total = row.reduce((a, b) => a + b, 0) || 1;
          return (
            <tr key={i}>
              <th scope="row">
                {i} {CLASS_NAMES[i]}
              </th>
              {row.map((v, j) => (
                <td
                  key={j}
                  style={{
                    background: `rgba(${i === j ? '76,120,168' : '228,87,86'},${(v / total).toFixed(3)})`,
                  }}
                >
                  {v}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Misclassified images, each with its true and predicted class. */
export function Mistakes(p: {
  mistakes: { pixels: Uint8Array; label: number; predicted: number; probability: number }[];
}) {
  return (
    <div class="mistakes">
      {p.mistakes.map((m, i) => (
        <figure key={i} class="mistake">
          <Image pixels={m.pixels} />
          <figcaption>
            {CLASS_NAMES[m.predicted]} ({Math.round(100 * m.probability)}%)
            <br />
            <span class="truth">is {CLASS_NAMES[m.label]}</span>
          </figcaption>
        </figure>
      ))}
    </div>
  );
}

function Image(p: { pixels: Uint8Array }) {
  const el = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = el.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      // Dark garments on light paper: easier to look at than the data set's white on black.
      const v = 255 - p.pixels[i];
      img.data[4 * i] = v;
      img.data[4 * i + 1] = v;
      img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [p.pixels]);
  return <canvas ref={el} width={28} height={28} class="digit" />;
}
