/**
 * The shell of a backend's own plan runner over an arena (wasm, webgpu): its views are stable,
 * `run` refuses once the runner is disposed, then hands each 'input' buffer its argument (the
 * backend copies it into the arena) before the backend's steps, and `dispose` releases once. What
 * differs between backends — the copy, the steps, where a view lives, what is released — is
 * passed in.
 */
import { ValueError } from '../util/errors.js';
import type { Plan, PlanBuffer, PlanRunner, PlanView } from './plan.js';
import type { View } from './types.js';

/** A plan buffer that takes an argument at every run. */
export type InputBuffer = Extract<PlanBuffer, { kind: 'input' }>;

/** What a backend's arena runner does at each part of a run. */
export interface ArenaParts {
  /** Runs first at every run (checks, bookkeeping). */
  start?(): void;
  /** Puts argument `arg` into input buffer `b`. */
  copyIn(b: InputBuffer, arg: View): void;
  /** Runs the plan's steps. */
  steps(): void;
  /** Where a plan view's elements are (the same at every run). */
  view(v: PlanView): View;
  /** Releases what the runner holds (called once). */
  release(): void;
}

/**
 * A stable `PlanRunner` for `plan` from a backend's parts.
 *
 * @throws ValueError from `run` once the runner is disposed.
 */
export function arenaRunner(plan: Plan, parts: ArenaParts): PlanRunner {
  const inputs = plan.buffers.filter((b): b is InputBuffer => b.kind === 'input');
  let disposed = false;
  return {
    stable: true,
    run(args: readonly View[]) {
      if (disposed) throw new ValueError('this compiled step was disposed');
      parts.start?.();
      for (const b of inputs) parts.copyIn(b, args[b.input]);
      parts.steps();
    },
    view: (v) => parts.view(v),
    dispose() {
      if (disposed) return;
      disposed = true;
      parts.release();
    },
  };
}
