/**
 * What the page knows of the run, and how each message of the training worker changes it: one pure
 * reducer with an exhaustive switch over the worker's messages (protocol.ts), so that a new message
 * without a case fails the type check. Two messages also have effects outside the state — 'ready'
 * draws the step's graph, 'weights' downloads a file — which the page runs where it receives them
 * (main.tsx); here they change only what the page shows.
 */
import type { Alarm } from '../../src/diagnostics/alarms.js';
import type { FromWorker } from './protocol.js';
import type { EpochPoint, RunInfo, Snapshot } from './session.js';

/** The progress beat's fields. */
export type Progress = Omit<Extract<FromWorker, { type: 'progress' }>, 'type'>;

/** The run as the page draws it. */
export interface LabState {
  /** A line for the learner: loading, the data's instructions, an error, a bad URL parameter. */
  notice?: string;
  info: RunInfo | null;
  /** The worker has built the current configuration's run. */
  ready: boolean;
  history: EpochPoint[];
  snap: Snapshot | null;
  alarms: Alarm[];
  progress: Progress;
  /** ‖w‖ per sampled step: [steps, norms]. */
  weightTrace: [number[], number[]];
  /** The gradient norm of each weight matrix per sampled step (null before a matrix appears). */
  gradTrace: { steps: number[]; byName: Record<string, (number | null)[]> };
}

/** What the page does besides receiving messages. */
export type PageAction =
  /** A new configuration (or Reset) went to the worker: the run is rebuilt. */
  { type: 'reconfigure' } | { type: 'notice'; notice?: string };

const IDLE: Progress = { step: 0, epoch: 1, stepsPerSecond: 0, running: false, finished: false };

/** The state before the worker has said anything. */
export function initialState(notice?: string): LabState {
  return {
    notice,
    info: null,
    ready: false,
    history: [],
    snap: null,
    alarms: [],
    progress: IDLE,
    weightTrace: [[], []],
    gradTrace: { steps: [], byName: {} },
  };
}

/** A snapshot's step appended to the ‖w‖ and gradient-norm traces (once per step). */
function traced(s: LabState, snap: Snapshot): Pick<LabState, 'weightTrace' | 'gradTrace'> {
  const [xs, ys] = s.weightTrace;
  const weightTrace: LabState['weightTrace'] =
    xs[xs.length - 1] === snap.step
      ? s.weightTrace
      : [
          [...xs, snap.step],
          [...ys, snap.weights.norm],
        ];
  const g = s.gradTrace;
  if (g.steps[g.steps.length - 1] === snap.step) return { weightTrace, gradTrace: g };
  const byName = { ...g.byName };
  for (const { name } of snap.gradNorms) if (!byName[name]) byName[name] = g.steps.map(() => null);
  for (const name of Object.keys(byName))
    byName[name] = [...byName[name], snap.gradNorms.find((x) => x.name === name)?.norm ?? null];
  return { weightTrace, gradTrace: { steps: [...g.steps, snap.step], byName } };
}

/** The state after a worker message or a page action. */
export function reduce(s: LabState, m: FromWorker | PageAction): LabState {
  switch (m.type) {
    case 'ready':
      return {
        ...s,
        notice: s.notice?.startsWith('loading') ? undefined : s.notice,
        ready: true,
        info: m.info,
        history: [],
        alarms: [],
        weightTrace: [[], []],
        gradTrace: { steps: [], byName: {} },
      };
    case 'epochs':
      return { ...s, history: [...s.history, ...m.points] };
    case 'snapshot':
      return { ...s, snap: m.snapshot, ...traced(s, m.snapshot) };
    case 'progress': {
      const { type: _, ...progress } = m;
      return { ...s, progress };
    }
    case 'alarm':
      return { ...s, alarms: [...s.alarms, m.alarm] };
    case 'weights':
      return s; // a download (main.tsx): nothing on the page changes
    case 'loading':
      return { ...s, notice: m.message };
    case 'error':
      return {
        ...s,
        notice: m.message.startsWith('Fashion-MNIST') ? m.message : `training stopped: ${m.message}`,
      };
    case 'reconfigure':
      return { ...s, ready: false };
    case 'notice':
      return { ...s, notice: m.notice };
    default:
      return m satisfies never;
  }
}
