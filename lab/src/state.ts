/**
 * The lab's state is a run configuration — the same RunConfig `keel train` reads, validated by the
 * same schema — and it lives in the URL: every field that differs from the lab's defaults becomes a
 * query parameter by its dotted path (`?data.dataset=circles&model.hidden=32,32&optimizer.lr=0.03`),
 * so a link reproduces the run (seeded). A parameter that does not parse or fails the schema is
 * reported, naming it, and the defaults are used. Presets are the chapter's experiments.
 */
import { type RunConfig, RunConfigSchema } from '../../src/run/config.js';

/** The lab's starting point: moons, a small ReLU net, Adam. */
export const DEFAULTS: RunConfig = RunConfigSchema.parse({
  name: 'lab',
  seed: 0,
  epochs: 200,
  data: { dataset: 'moons', samples: 400, noise: 0.2, validation: 0.2, batchSize: 32 },
  model: { hidden: [16, 16], activation: 'relu' },
  optimizer: { name: 'adam', lr: 0.01 },
});

/** The fields the lab exposes, in URL order (dotted paths into RunConfig). */
export const FIELDS = [
  'seed',
  'epochs',
  'data.dataset',
  'data.samples',
  'data.limit',
  'data.noise',
  'data.validation',
  'data.batchSize',
  'model.hidden',
  'model.activation',
  'model.init',
  'model.initStd',
  'model.initValue',
  'model.layerNorm',
  'model.dropout',
  'model.noise',
  'data.transforms.noise',
  'data.transforms.translate',
  'data.transforms.flip',
  'data.transforms.erase',
  'optimizer.name',
  'optimizer.lr',
  'optimizer.momentum',
  'optimizer.weightDecay',
  'optimizer.penalty',
  'optimizer.proximal',
  'optimizer.groups',
  'schedule.name',
  'clipGradNorm',
] as const;
export type Field = (typeof FIELDS)[number];

export function get(c: RunConfig, path: Field): unknown {
  let cur: unknown = c;
  for (const k of path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[k];
  return cur;
}

/** A copy of `c` with `path` set (not validated: call `validate`). */
export function set(
  c: RunConfig | Record<string, unknown>,
  path: Field,
  value: unknown,
): Record<string, unknown> {
  const out = structuredClone(c) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let cur = out;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  if (value === undefined) delete cur[keys[keys.length - 1]];
  else cur[keys[keys.length - 1]] = value;
  return out;
}

/** Validates a raw configuration; the error names each bad field. */
export function validate(raw: unknown): { config: RunConfig } | { error: string } {
  const r = RunConfigSchema.safeParse(raw);
  if (r.success) return { config: r.data };
  return { error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

const encode = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

/** The query string of a configuration: the fields that differ from the defaults. */
export function toQuery(c: RunConfig): string {
  const q = new URLSearchParams();
  for (const f of FIELDS) {
    const v = get(c, f);
    if (JSON.stringify(v) !== JSON.stringify(get(DEFAULTS, f)) && v !== undefined) q.set(f, encode(v));
  }
  return q.toString();
}

function decode(f: Field, text: string): unknown {
  const like = get(DEFAULTS, f);
  if (f === 'model.hidden') return text === '' ? [] : text.split(',').map(Number);
  if (f === 'model.dropout' || f === 'model.noise')
    return text.includes(',') ? text.split(',').map(Number) : Number(text);
  if (f === 'clipGradNorm' || f === 'model.initValue' || f === 'data.limit') return Number(text);
  if (typeof like === 'number') return Number(text);
  if (typeof like === 'boolean') return text === 'true';
  return text;
}

/** The configuration a query string describes, or the defaults with the error. */
export function fromQuery(query: string): { config: RunConfig; error?: string } {
  const q = new URLSearchParams(query);
  let raw: Record<string, unknown> = structuredClone(DEFAULTS) as unknown as Record<string, unknown>;
  const unknown = [...q.keys()].filter((k) => !(FIELDS as readonly string[]).includes(k));
  for (const f of FIELDS) {
    const t = q.get(f);
    if (t !== null) raw = set(raw, f, decode(f, t));
  }
  const r = validate(raw);
  if ('error' in r)
    return {
      config: DEFAULTS,
      error: `the link's settings are not valid (${r.error}); showing the defaults`,
    };
  return {
    config: r.config,
    error: unknown.length ? `ignored unknown settings in the link: ${unknown.join(', ')}` : undefined,
  };
}

/** A preset: one of the chapter's experiments, set up in one click. */
export interface Preset {
  id: string;
  name: string;
  /** Two lines: what is set up, and what to look for. */
  text: [string, string];
  config: RunConfig;
}

const preset = (over: (c: RunConfig) => void): RunConfig => {
  const c = structuredClone(DEFAULTS);
  over(c);
  return RunConfigSchema.parse(c);
};

/** Few noisy points and a big net: it memorizes them. */
const overfitBase = (c: RunConfig) => {
  c.epochs = 300;
  c.data = { ...c.data, dataset: 'moons', samples: 60, noise: 0.35, validation: 0.25, batchSize: 16 };
  c.model = { ...c.model, hidden: [64, 64] };
  c.optimizer = { ...c.optimizer, name: 'adam', lr: 0.01 };
};

export const PRESETS: Preset[] = [
  {
    id: 'overfitting',
    name: 'Overfitting',
    text: [
      '45 noisy training points, a 64-64 net, no regularization, 300 epochs.',
      'Watch the training loss fall towards 0 while the test loss turns and climbs: the boundary wraps single points.',
    ],
    config: preset(overfitBase),
  },
  {
    id: 'weight-decay',
    name: 'Weight decay',
    text: [
      'The overfitting setup with decoupled weight decay (AdamW, λ = 3) on the weight matrices, not the biases.',
      'Compare with Overfitting (pin it first): ‖w‖ stays small, the boundary stays smooth, the test loss stays lower.',
    ],
    config: preset((c) => {
      overfitBase(c);
      c.optimizer = { ...c.optimizer, name: 'adamw', weightDecay: 3 };
    }),
  },
  {
    id: 'dropout',
    name: 'Dropout',
    text: [
      'The overfitting setup with dropout p = 0.5 after each hidden layer (inverted dropout, seeded).',
      'The train–test gap narrows: the net cannot lean on any single unit, so it cannot memorize single points as easily.',
    ],
    config: preset((c) => {
      overfitBase(c);
      c.model = { ...c.model, dropout: 0.5 };
    }),
  },
  {
    id: 'input-noise',
    name: 'Input noise',
    text: [
      'The overfitting setup with Gaussian noise (σ = 0.3) added to the training points at every step — a fresh draw each time.',
      'Compare with Overfitting (pin it first): the net never sees the same point twice, so it cannot wrap single points; the boundary stays smooth and the test loss stays low (Bishop: noise is a smoothness penalty).',
    ],
    config: preset((c) => {
      overfitBase(c);
      c.data = { ...c.data, transforms: { ...c.data.transforms, noise: 0.3 } };
    }),
  },
  {
    id: 'vanishing',
    name: 'Vanishing gradients',
    text: [
      'Sigmoid in 6 hidden layers with weights drawn from N(0, 1) (D2L §5.4).',
      'The diagnostics raise the vanishing-gradient alarm: the first layers get gradients 100× smaller than the last; the loss barely moves.',
    ],
    config: preset((c) => {
      c.data = { ...c.data, dataset: 'circles', noise: 0.05 };
      c.model = {
        ...c.model,
        hidden: [16, 16, 16, 16, 16, 16],
        activation: 'sigmoid',
        init: 'normal',
        initStd: 1,
      };
      c.optimizer = { ...c.optimizer, name: 'sgd', lr: 0.1 };
    }),
  },
  {
    id: 'exploding',
    name: 'Exploding gradients',
    text: [
      'ReLU in 8 hidden layers of 32 with weights from N(0, 1): each layer multiplies the signal by ~4.',
      'The exploding-gradient alarm fires and within steps the loss explodes: training stops with keel’s diagnosis. Clipping the gradient norm at 1 keeps it going; Kaiming init removes the cause.',
    ],
    config: preset((c) => {
      c.model = {
        ...c.model,
        hidden: [32, 32, 32, 32, 32, 32, 32, 32],
        activation: 'relu',
        init: 'normal',
        initStd: 1,
      };
      c.optimizer = { ...c.optimizer, name: 'sgd', lr: 0.01 };
    }),
  },
  {
    id: 'symmetry',
    name: 'Symmetry',
    text: [
      'Every weight starts at the same constant (0.1): all hidden units compute the same function.',
      'They get the same gradients and stay the same — the net acts as if it had one unit per layer; any random init, or dropout, breaks the tie.',
    ],
    config: preset((c) => {
      c.data = { ...c.data, dataset: 'circles', noise: 0.05 };
      c.model = { ...c.model, hidden: [16, 16], activation: 'tanh', init: 'constant', initValue: 0.1 };
      c.optimizer = { ...c.optimizer, name: 'sgd', lr: 0.3 };
    }),
  },
  {
    id: 'fashion',
    name: 'Fashion-MNIST',
    text: [
      'D2L’s 784-256-10 MLP on 5,000 Fashion-MNIST images (served by keel lab from the data directory), 20 epochs.',
      'The confusion matrix shows which garments it mixes up — shirts with T-shirts and coats — and the mistakes show why.',
    ],
    config: preset((c) => {
      c.epochs = 20;
      c.data = { ...c.data, dataset: 'fashion-mnist', limit: 5000, validation: 0.1, batchSize: 64 };
      c.model = { ...c.model, hidden: [256] };
      c.optimizer = { ...c.optimizer, name: 'sgd', lr: 0.1 };
    }),
  },
  {
    id: 'augmentation',
    name: 'Augmentation',
    text: [
      'A 784-512-512-10 MLP on 1,000 Fashion-MNIST images for 40 epochs, each training image shifted by up to 2 pixels and mirrored half the time, anew at every step.',
      'Pin the same run without augmentation (set the shift and flip to 0) to compare: without it the training accuracy reaches 1 while the test accuracy stalls; with it the gap narrows.',
    ],
    config: preset((c) => {
      c.epochs = 40;
      c.data = {
        ...c.data,
        dataset: 'fashion-mnist',
        limit: 1000,
        validation: 0,
        batchSize: 64,
        transforms: { ...c.data.transforms, translate: 2, flip: 0.5 },
      };
      c.model = { ...c.model, hidden: [512, 512] };
      c.optimizer = { ...c.optimizer, name: 'sgd', lr: 0.02, momentum: 0.9 };
    }),
  },
];
