/**
 * The sweep configuration of `keel sweep --config sweep.json`: a base run configuration (inline,
 * or a path to a run config file) and axes over its fields, by dotted path:
 *   "optimizer.weightDecay": [0, 0.01, 0.1]            a grid axis: every value
 *   "optimizer.lr": { "logUniform": [0.001, 0.1] }     a random axis: `samples` seeded draws
 *   "model.dropout": { "uniform": [0, 0.5] }, "model.hidden": { "choice": [[64], [256]] },
 *   "epochs": { "int": [5, 20] }
 * Trials are the grid's product, times `samples` draws of the random axes, in a fixed order with
 * stable names (t000, t001, …), so the same file always means the same trials: that is what makes
 * a re-run resume. Each trial's configuration is validated by the run schema: a path that does not
 * exist or a value out of range is one error naming the axis and the field. The metric
 * (`testAccuracy`, `testLoss`, `valLoss`, `valAccuracy`, `trainLoss`, `trainAccuracy`, `gap` = test −
 * train loss, `weightNorm` = ‖w‖ of the weight matrices) ranks the trials, by its last-epoch value.
 * Reading files is the caller's: a base given as a path is read by the `readBase` it passes
 * (io/node/runConfig.ts' loadSweep reads it next to the sweep file).
 */
import { z } from 'zod';
import { ConfigError, nameSchema, parseConfig, type RunConfig } from '../run/config.js';
import { Rng } from '../util/random.js';

const value = z.union([z.number(), z.string(), z.boolean(), z.array(z.union([z.number(), z.string()]))]);
const range = z
  .tuple([z.number(), z.number()])
  .refine(([a, b]) => a <= b, 'the range must be [low, high] with low ≤ high');

const AxisSchema = z.union([
  z.array(value).min(1, 'a grid axis needs at least one value'),
  z.object({ grid: z.array(value).min(1) }).strict(),
  z.object({ choice: z.array(value).min(1) }).strict(),
  z.object({ uniform: range }).strict(),
  z.object({ logUniform: range.refine(([a]) => a > 0, 'logUniform needs low > 0') }).strict(),
  z.object({ int: range }).strict(),
]);

/** The last epoch's numbers a trial reports as metrics. */
export const EPOCH_METRICS = [
  'testAccuracy',
  'testLoss',
  'valAccuracy',
  'valLoss',
  'trainAccuracy',
  'trainLoss',
] as const;
/** The metrics a sweep can rank by: the epoch's, the test − train loss gap and ‖w‖. */
export const METRICS = [...EPOCH_METRICS, 'gap', 'weightNorm'] as const;
export type MetricName = (typeof METRICS)[number];

/** The sweep file's schema. */
export const SweepSchema = z
  .object({
    name: nameSchema('sweep'),
    /** The base run configuration, or the path of a run config file (relative to the sweep file). */
    base: z.union([z.string(), z.record(z.string(), z.unknown())]).default({}),
    axes: z.record(z.string(), AxisSchema).refine((a) => Object.keys(a).length > 0, 'give at least one axis'),
    /** Draws of the random axes (per grid point). */
    samples: z.number().int().min(1).default(1),
    /** Seed of the random axes' draws (the trials' own seeds are the `seed` field or axis). */
    seed: z.number().int().min(0).default(0),
    metric: z
      .object({
        name: z.enum(METRICS).default('testAccuracy'),
        goal: z.enum(['min', 'max']).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

type Axis = z.infer<typeof AxisSchema>;
type Value = z.infer<typeof value>;
/** An axis drawn at random: every form but a list or `{ grid }`. */
type RandomAxis = Exclude<Axis, Value[] | { grid: Value[] }>;

/** One trial: its stable name, the values of every axis, and its validated run configuration. */
export interface Trial {
  name: string;
  params: Record<string, Value>;
  config: RunConfig;
}

/** A parsed sweep: its trials in order and how they are ranked. */
export interface Sweep {
  name: string;
  axes: string[];
  trials: Trial[];
  metric: { name: MetricName; goal: 'min' | 'max' };
  /** The sweep file as given (written into the sweep directory). */
  source: unknown;
}

const lowerIsBetter = new Set<MetricName>(['testLoss', 'valLoss', 'trainLoss', 'gap', 'weightNorm']);

function setPath(obj: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (next === undefined || next === null) cur[k] = {};
    else if (typeof next !== 'object' || Array.isArray(next))
      throw new ConfigError(
        `sweep axis '${path}': '${k}' is a value in the base config, not a group of fields`,
      );
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = v;
}

function draw(a: RandomAxis, g: Rng): Value {
  if ('choice' in a) return a.choice[g.integer(0, a.choice.length)];
  if ('uniform' in a) return a.uniform[0] + g.random() * (a.uniform[1] - a.uniform[0]);
  if ('logUniform' in a) {
    const [lo, hi] = a.logUniform;
    return Math.exp(Math.log(lo) + g.random() * (Math.log(hi) - Math.log(lo)));
  }
  return g.integer(a.int[0], a.int[1] + 1);
}

/** Reads the base run configuration named by a path (relative to the sweep file). */
export type BaseReader = (path: string) => Record<string, unknown>;

/**
 * Validates a sweep object and expands it into its trials; `path` names it in errors, `readBase`
 * reads a base given as a path (without it, such a base is an error).
 */
export function parseSweep(raw: unknown, path?: string, readBase?: BaseReader): Sweep {
  const r = SweepSchema.safeParse(raw);
  if (!r.success)
    throw new ConfigError(
      `${path ?? 'sweep'}: ${r.error.issues.map((i) => `${['sweep', ...i.path].join('.')}: ${i.message}`).join('; ')}`,
    );
  const s = r.data;
  let base: Record<string, unknown>;
  if (typeof s.base !== 'string') base = s.base;
  else if (readBase) base = readBase(s.base);
  else
    throw new ConfigError(
      `${path ?? 'sweep'}: the base config is a file (${s.base}); give it inline, or read the sweep with loadSweep`,
    );
  const axes = Object.keys(s.axes);
  const grid: [string, Value[]][] = [];
  const random: [string, RandomAxis][] = [];
  for (const [name, a] of Object.entries(s.axes)) {
    if (Array.isArray(a)) grid.push([name, a]);
    else if ('grid' in a) grid.push([name, a.grid]);
    else random.push([name, a]);
  }
  // The grid's product in axis order (the last axis varies fastest).
  let points: Record<string, Value>[] = [{}];
  for (const [name, values] of grid) points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  const g = new Rng(s.seed);
  const samples = random.length ? s.samples : 1;
  const trials: Trial[] = [];
  const width = Math.max(3, String(points.length * samples - 1).length);
  for (const p of points)
    for (let k = 0; k < samples; k++) {
      const params: Record<string, Value> = { ...p };
      for (const [name, a] of random) params[name] = draw(a, g);
      const name = `t${String(trials.length).padStart(width, '0')}`;
      const cfg = structuredClone(base);
      for (const [a, v] of Object.entries(params)) setPath(cfg, a, v);
      cfg.name = name;
      const config = parseConfig(cfg, `${path ?? 'sweep'} (trial ${name}: ${describe(params)})`);
      trials.push({ name, params, config });
    }
  const goal = s.metric.goal ?? (lowerIsBetter.has(s.metric.name) ? 'min' : 'max');
  return { name: s.name, axes, trials, metric: { name: s.metric.name, goal }, source: raw };
}

/** `a=1, b=0.01` — a trial's parameters in one line. */
export function describe(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : JSON.stringify(v)}`,
    )
    .join(', ');
}
