/**
 * Transient storages: memory that only graph nodes can reach — a dropout mask, what a `Sequential`
 * of keel's own layers makes besides its output — goes back to the backend's pool the
 * moment the last node saving it is freed by a backward sweep (or at once, when no node saves it),
 * instead of waiting for the garbage collector. A plain training loop that never yields to the event
 * loop then reuses the same buffers step after step, as a compiled step does.
 *
 * The contract: `markTransient(s)` promises that no tensor over `s` is held outside graph nodes'
 * saved lists (the caller made it and handed it to no one else). The module counts, per storage,
 * the saved lists that hold it (`Storage.savedBy`): `noteSaved` when a node is recorded,
 * `noteFreed` when a sweep frees it; counts of graphs never swept go with their storages. A scope
 * (`openTransientScope`) marks, when it closes, what was made inside it and only it saw.
 * Nothing is released while a compiled step is traced, in anomaly mode, or for storages without
 * `release`; a released storage refuses reads with an error that says why, so a broken promise
 * shows at once rather than as wrong numbers.
 */
import { recyclingPaused } from '../backend/host.js';
import { collectMade, lastSerial } from '../backend/serial.js';
import type { Storage } from '../backend/types.js';
import type { Tensor } from '../tensor/tensor.js';
import { isAnomalyEnabled } from './anomaly.js';

const marked = new WeakSet<Storage>();

const RELEASED_WHY =
  'this tensor was an intermediate result that only the graph held, and its memory went back to the pool when backward freed the graph';

/** @internal A node was recorded saving `saved`. */
export function noteSaved(saved: readonly Tensor[]): void {
  for (let i = 0; i < saved.length; i++) {
    const s = saved[i].storage;
    s.savedBy = (s.savedBy ?? 0) + 1;
  }
}

/** @internal A rule returned t as a gradient: t's storage is no longer only the graph's. */
export function escapeTransient(t: Tensor): void {
  marked.delete(t.storage);
}

/** @internal A sweep freed a node's saved list: storages no other node saves are released. */
export function noteFreed(saved: readonly Tensor[]): void {
  for (let i = 0; i < saved.length; i++) {
    const s = saved[i].storage;
    const n = s.savedBy ?? 0;
    if (n === 0) continue;
    s.savedBy = n - 1;
    if (n === 1 && marked.has(s)) releaseNow(s);
  }
}

function releaseNow(s: Storage): void {
  marked.delete(s);
  if (recyclingPaused() || isAnomalyEnabled()) return;
  s.release?.(RELEASED_WHY);
}

/**
 * @internal Promises that only graph nodes hold tensors over `s` from now on: it is released when
 * the last node saving it is freed, or now if none does.
 */
export function markTransient(s: Storage): void {
  if (!s.release) return;
  marked.add(s);
  if (!s.savedBy) releaseNow(s);
}

/** An open scope: what was made since it opened, and the collector it replaced. */
export interface TransientScope {
  readonly since: number;
  readonly made: Storage[];
  readonly outer: Storage[] | null;
}

/**
 * @internal Opens a scope: the storages made until it closes are collected. End it with
 * `closeTransientScope`, or `abandonTransientScope` when its code threw.
 */
export function openTransientScope(): TransientScope {
  const made: Storage[] = [];
  return { since: lastSerial(), made, outer: collectMade(made) };
}

/** @internal Ends a scope whose code threw: nothing is marked (the collector garbage-collects). */
export function abandonTransientScope(scope: TransientScope): void {
  collectMade(scope.outer);
}

/**
 * @internal Ends a scope whose code returned `output` and kept nothing else (a Sequential of keel's
 * own layers): everything made inside it but the output's storage is reachable only through graph
 * nodes, so it is marked transient. The output, when made inside, is the enclosing scope's to judge.
 */
export function closeTransientScope(scope: TransientScope, output: Tensor): void {
  collectMade(scope.outer);
  const out = output.storage;
  for (const s of scope.made) if (s !== out) markTransient(s);
  if (scope.outer && (out.serial ?? -1) > scope.since) scope.outer.push(out);
}
