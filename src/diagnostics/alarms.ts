/**
 * Alarms raised by the diagnostics: what went wrong, where (the parameter or layer), when, and what
 * to try. One factory per kind keeps the wording of suggestions in one place.
 */

/** The kinds of problems detected. */
export type AlarmKind =
  | 'vanishing'
  | 'exploding'
  | 'non-finite'
  | 'dead-units'
  | 'saturated'
  | 'no-gradient'
  | 'overfitting';

/** One detected problem. */
export interface Alarm {
  kind: AlarmKind;
  /** Parameter or layer names concerned (earliest first). */
  where: string[];
  message: string;
  suggestion: string;
  epoch: number;
  step: number;
}

const suggestions: { [K in AlarmKind]: string } = {
  vanishing:
    'use ReLU-family activations instead of sigmoid/tanh in deep stacks, Kaiming (ReLU) or Xavier (tanh) initialization instead of small fixed-std normals, or add LayerNorm/BatchNorm',
  exploding:
    'lower the learning rate, clip gradients (clipGradNorm), use Kaiming/Xavier initialization instead of N(0, 1), or add normalization',
  'non-finite':
    'run the failing step inside detectAnomaly(() => ...) to find the first op that produced NaN/Inf; then lower the learning rate, clip gradients, or guard log/sqrt/div inputs',
  'dead-units':
    'lower the learning rate, use LeakyReLU/PReLU/GELU, or Kaiming initialization with zero biases',
  saturated:
    'use Xavier initialization, scale the inputs, add LayerNorm/BatchNorm, or switch to ReLU-family activations',
  'no-gradient':
    'check that these parameters are used in the forward pass and that nothing detaches them (detach(), noGrad) — or freeze them on purpose with requiresGrad = false',
  overfitting:
    'add weight decay or dropout, get more data, or stop early (earlyStopping restores the best epoch)',
};

/** Builds an alarm with the standard suggestion of its kind. */
export function alarm(kind: AlarmKind, where: string[], message: string, epoch: number, step: number): Alarm {
  return { kind, where, message, suggestion: suggestions[kind], epoch, step };
}

/** One line for logs: `⚠ vanishing gradients at 0.weight, 2.weight: ... — try: ...`. */
export function formatAlarm(a: Alarm): string {
  return `⚠ [${a.kind}] epoch ${a.epoch}, step ${a.step}: ${a.message} — try: ${a.suggestion}`;
}
