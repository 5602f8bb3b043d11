/**
 * The checks every two-sample entry point of the shift modules starts with, in one place:
 * `twoSample` / `twoSampleAsync` wrap an entry `(source, target, g, opts)` so that its options are
 * checked against their schema (util/options.ts `checkOptions`: unknown names refused, each value's
 * rule named) and default to `{}` before the body runs; the async one reports a bad option as a
 * rejected promise, as an `async function` does. `sameFeatures` and `checkSamples` refuse samples
 * whose rows do not match or are too few, with the entry's name in the message.
 */
import type { z } from 'zod';
import { ValueError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import type { Rng } from '../util/random.js';
import type { Scores } from './matrix.js';

/** A two-sample entry point as its callers see it (`opts` optional). */
export type TwoSample<S, O, R> = (source: S, target: S, g: Rng, opts?: O) => R;

/**
 * The entry point `op` running `body` once `opts` (default `{}`) passes `schema`.
 *
 * @throws ValueError when an option is unknown or out of its range.
 */
export function twoSample<S, O extends object, R>(
  op: string,
  schema: z.ZodObject,
  body: (source: S, target: S, g: Rng, opts: O) => R,
): TwoSample<S, O, R> {
  return (source, target, g, opts = {} as O) => {
    checkOptions(op, schema, opts);
    return body(source, target, g, opts);
  };
}

/**
 * `twoSample` for an asynchronous body: a bad option rejects the returned promise.
 *
 * @throws never synchronously; the promise rejects with a ValueError for a bad option.
 */
export function twoSampleAsync<S, O extends object, R>(
  op: string,
  schema: z.ZodObject,
  body: (source: S, target: S, g: Rng, opts: O) => Promise<R>,
): TwoSample<S, O, Promise<R>> {
  const run = twoSample(op, schema, body);
  return async (source, target, g, opts) => run(source, target, g, opts);
}

/**
 * Refuses a source and a target with different numbers of features (columns).
 *
 * @throws ValueError `op: source has … features, target …`.
 */
export function sameFeatures(op: string, source: Scores, target: Scores): void {
  if (source.k !== target.k)
    throw new ValueError(`${op}: source has ${source.k} features, target ${target.k}`);
}

/**
 * Refuses samples with different numbers of features or fewer than `minRows` rows each.
 *
 * @throws ValueError naming `op` and what is off.
 */
export function checkSamples(op: string, source: Scores, target: Scores, minRows: number): void {
  sameFeatures(op, source, target);
  if (source.n < minRows || target.n < minRows)
    throw new ValueError(`${op}: each sample needs ≥ ${minRows} rows, got ${source.n} and ${target.n}`);
}
