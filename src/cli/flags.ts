/**
 * Flag parsers and flags that several commands share: integers, positive integers and numbers that
 * name the flag and the bad value (`--seed must be an integer, got 'x'`), the divergence flags of the
 * commands that train, and the note on where Fashion-MNIST is read from.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { DivergenceOptions } from '../train/divergence.js';
import { ValueError } from '../util/errors.js';

/** An integer flag. */
export const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
  return n;
};

/** A positive integer flag. */
export const posInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
  return n;
};

/** A finite number flag. */
export const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
  return n;
};

/** The divergence flags as commander gives them. */
export interface DivergenceFlags {
  onNonfinite?: string;
  nonfinitePatience?: number;
}

/** Adds --on-nonfinite and --nonfinite-patience. */
export const divergenceFlags = (c: Command) =>
  c
    .addOption(
      new Option(
        '--on-nonfinite <what>',
        'when the loss turns NaN/Inf or explodes: stop (default) or continue',
      ).choices(['stop', 'continue']),
    )
    .option(
      '--nonfinite-patience <n>',
      'diverged steps tolerated before stopping (default 0)',
      int('--nonfinite-patience'),
    );

/** The divergence options the flags ask for (undefined: the defaults). */
export function divergenceOf(o: DivergenceFlags): DivergenceOptions | undefined {
  if (o.nonfinitePatience !== undefined && o.nonfinitePatience < 0)
    throw new ValueError(`--nonfinite-patience must be ≥ 0, got ${o.nonfinitePatience}`);
  return o.onNonfinite || o.nonfinitePatience !== undefined
    ? { onNonFinite: o.onNonfinite as DivergenceOptions['onNonFinite'], patience: o.nonfinitePatience }
    : undefined;
}

/** Where Fashion-MNIST is read from, as `--help` says it. */
export const DATA_HELP = `
Fashion-MNIST is read from $KEEL_DATA when it is set (nothing else is looked at then), otherwise
from ~/.cache/keel/fashion-mnist or /usr/share/datasets/fashion-mnist (Debian: apt-get install
dataset-fashion-mnist); the four *-ubyte files may be gzipped or not. --download fetches them.`;
