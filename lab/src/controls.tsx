/**
 * What a learner sets, grouped as the chapter is: data, network, regularization, optimization.
 * Every control is a labelled form element (keyboard-reachable, screen-reader named); a change
 * becomes a new configuration, validated by the run schema — a value it refuses is reported by
 * name and the run keeps its settings. Text and number fields are uncontrolled (`defaultValue`,
 * keyed by the configured value): the page redraws several times a second while training, and a
 * controlled field would be reset to the configured value under the learner's typing.
 */
import type { RunConfig } from '../../src/run/config.js';
import { type Field, get, set, validate } from './state.js';

type Option = [value: string, label: string];

const DATASETS: Option[] = [
  ['moons', 'moons'],
  ['circles', 'circles'],
  ['spirals', 'spirals (3 classes)'],
  ['xor', 'xor'],
  ['fashion-mnist', 'Fashion-MNIST (served by keel lab)'],
];
const ACTIVATIONS: Option[] = [
  ['relu', 'ReLU'],
  ['leaky_relu', 'LeakyReLU'],
  ['gelu', 'GELU'],
  ['silu', 'SiLU'],
  ['elu', 'ELU'],
  ['sigmoid', 'sigmoid'],
  ['tanh', 'tanh'],
];
const INITS: Option[] = [
  ['default', 'PyTorch default'],
  ['normal', 'normal N(0, σ²)'],
  ['xavier', 'Xavier'],
  ['kaiming', 'Kaiming'],
  ['constant', 'constant'],
];
const OPTIMIZERS: Option[] = [
  ['sgd', 'SGD (coupled L2)'],
  ['adam', 'Adam (coupled L2)'],
  ['adamw', 'AdamW (decoupled decay)'],
  ['rmsprop', 'RMSprop'],
  ['adagrad', 'Adagrad'],
];
const SCHEDULES: Option[] = [
  ['none', 'constant'],
  ['step', 'step (×0.1 every 5 epochs)'],
  ['cosine', 'cosine'],
  ['exponential', 'exponential'],
  ['onecycle', 'one-cycle'],
];

export function Controls(p: {
  config: RunConfig;
  onChange: (c: RunConfig) => void;
  onError: (m: string) => void;
}) {
  const c = p.config;
  const change = (field: Field, value: unknown) => {
    let raw = set(c, field, value);
    // Per-layer dropout and noise follow the number of hidden layers.
    if (field === 'model.hidden' && Array.isArray(c.model.dropout))
      raw = set(raw, 'model.dropout', c.model.dropout[0] ?? 0);
    if (field === 'model.hidden' && Array.isArray(c.model.noise))
      raw = set(raw, 'model.noise', c.model.noise[0] ?? 0);
    // Shifts, flips and erasing move pixels: off when the data are points.
    if (field === 'data.dataset' && value !== 'fashion-mnist')
      for (const f of ['data.transforms.translate', 'data.transforms.flip', 'data.transforms.erase'] as const)
        raw = set(raw, f, 0);
    const r = validate(raw);
    if ('error' in r) p.onError(`not changed: ${r.error}`);
    else p.onChange(r.config);
  };
  const id = (f: Field) => `c-${f.replace(/\./g, '-')}`;
  const select = (f: Field, label: string, options: Option[]) => (
    <label for={id(f)}>
      <span>{label}</span>
      <select
        id={id(f)}
        value={String(get(c, f))}
        onChange={(e) => change(f, (e.target as HTMLSelectElement).value)}
      >
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
  const number = (
    f: Field,
    label: string,
    o: { step?: number; min?: number; max?: number; optional?: boolean } = {},
  ) => {
    const v = get(c, f);
    return (
      <label for={id(f)}>
        <span>{label}</span>
        <input
          id={id(f)}
          key={`${f}=${String(v)}`}
          type="number"
          step={o.step ?? 'any'}
          min={o.min}
          max={o.max}
          defaultValue={v === undefined ? '' : String(v)}
          placeholder={o.optional ? 'off' : undefined}
          onChange={(e) => {
            const t = (e.target as HTMLInputElement).value;
            change(f, t === '' && o.optional ? undefined : Number(t));
          }}
        />
      </label>
    );
  };
  const check = (f: Field, label: string) => (
    <label for={id(f)} class="check">
      <input
        id={id(f)}
        type="checkbox"
        checked={Boolean(get(c, f))}
        onChange={(e) => change(f, (e.target as HTMLInputElement).checked)}
      />
      <span>{label}</span>
    </label>
  );
  const dropout = c.model.dropout;
  return (
    <form class="controls" aria-label="settings" onSubmit={(e) => e.preventDefault()}>
      <fieldset>
        <legend>Data</legend>
        {select('data.dataset', 'data set', DATASETS)}
        {c.data.dataset === 'fashion-mnist' ? (
          number('data.limit', 'training images', { step: 1000, min: 100, optional: true })
        ) : (
          <>
            {number('data.samples', 'training points', { step: 10, min: 10 })}
            {number('data.noise', 'noise', { step: 0.05, min: 0 })}
          </>
        )}
        {number('data.validation', 'held out for validation', { step: 0.05, min: 0, max: 0.5 })}
        {number('data.batchSize', 'batch size', { step: 1, min: 1 })}
        {number('seed', 'seed', { step: 1, min: 0 })}
      </fieldset>
      <fieldset>
        <legend>Network</legend>
        <label for="c-model-hidden">
          <span>hidden widths</span>
          <input
            id="c-model-hidden"
            key={`hidden=${c.model.hidden.join(',')}`}
            type="text"
            inputMode="numeric"
            defaultValue={c.model.hidden.join(', ')}
            aria-describedby="hidden-help"
            onChange={(e) => {
              const t = (e.target as HTMLInputElement).value.trim();
              change('model.hidden', t === '' ? [] : t.split(/[\s,]+/).map(Number));
            }}
          />
        </label>
        <small id="hidden-help">comma-separated, e.g. 16, 16</small>
        {select('model.activation', 'activation', ACTIVATIONS)}
        {select('model.init', 'initialization', INITS)}
        {c.model.init === 'normal'
          ? number('model.initStd', 'σ of the normal', { step: 0.01, min: 0 })
          : null}
        {c.model.init === 'constant' ? number('model.initValue', 'the constant', { step: 0.05 }) : null}
        {check('model.layerNorm', 'LayerNorm after each hidden layer')}
      </fieldset>
      <fieldset>
        <legend>Regularization</legend>
        <label for="c-model-dropout">
          <span>dropout p (one, or one per layer)</span>
          <input
            id="c-model-dropout"
            key={`dropout=${String(dropout)}`}
            type="text"
            defaultValue={Array.isArray(dropout) ? dropout.join(', ') : String(dropout)}
            onChange={(e) => {
              const parts = (e.target as HTMLInputElement).value
                .split(/[\s,]+/)
                .filter(Boolean)
                .map(Number);
              change('model.dropout', parts.length > 1 ? parts : (parts[0] ?? 0));
            }}
          />
        </label>
        {number('model.noise', 'hidden-unit noise σ', { step: 0.05, min: 0 })}
        {number('data.transforms.noise', 'input noise σ (training)', { step: 0.05, min: 0 })}
        {c.data.dataset === 'fashion-mnist' ? (
          <>
            {number('data.transforms.translate', 'shift images by up to (px)', { step: 1, min: 0 })}
            {number('data.transforms.flip', 'flip left–right, probability', { step: 0.1, min: 0, max: 1 })}
            {number('data.transforms.erase', 'erase a rectangle, probability', { step: 0.1, min: 0, max: 1 })}
          </>
        ) : null}
        {number('optimizer.weightDecay', 'weight decay λ', { step: 0.001, min: 0 })}
        {select('optimizer.penalty', 'penalty', [
          ['l2', 'L2 (‖w‖²)'],
          ['l1', 'L1 (|w|)'],
        ])}
        {c.optimizer.penalty === 'l1' ? check('optimizer.proximal', 'proximal step (exact zeros)') : null}
        {select('optimizer.groups', 'decay applies to', [
          ['default', 'weight matrices only'],
          ['all', 'every parameter (biases too)'],
        ])}
      </fieldset>
      <fieldset>
        <legend>Optimization</legend>
        {select('optimizer.name', 'optimizer', OPTIMIZERS)}
        {number('optimizer.lr', 'learning rate', { step: 0.001, min: 0 })}
        {c.optimizer.name === 'sgd' || c.optimizer.name === 'rmsprop'
          ? number('optimizer.momentum', 'momentum', { step: 0.1, min: 0, max: 1 })
          : null}
        {select('schedule.name', 'schedule', SCHEDULES)}
        {number('clipGradNorm', 'clip gradient norm at', { step: 0.5, min: 0, optional: true })}
        {number('epochs', 'epochs', { step: 10, min: 1 })}
      </fieldset>
    </form>
  );
}
