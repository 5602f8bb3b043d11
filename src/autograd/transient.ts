/**
 * Transient storages: memory that only graph nodes can reach — a dropout mask, the activations
 * between the layers of a `Sequential` of keel's own layers — goes back to the backend's pool the
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
import { lastSerial } from '../backend/serial.js';
import type { Storage } from '../backend/types.js';
import type { Tensor } from '../tensor/tensor.js';
import { isAnomalyEnabled } from './anomaly.js';
import { type GradNode, nextNodeId } from './node.js';

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

/** An open scope: the last storage serial and the next node id when it opened. */
export interface TransientScope {
  readonly since: number;
  readonly firstNode: number;
}

/** @internal Opens a scope (see the header); `closeTransientScope` ends it (or nothing, if it threw). */
export function openTransientScope(): TransientScope {
  return { since: lastSerial(), firstNode: nextNodeId() };
}

/**
 * @internal Ends a scope. `output` is what the scope's code returns; `between` are tensors only the
 * scope's code saw (a Sequential's activations between layers). They, and what the nodes recorded
 * in the scope saved, are marked transient when they were made in the scope and do not share the
 * output's storage.
 */
export function closeTransientScope(scope: TransientScope, output: Tensor, between: readonly Tensor[]): void {
  const out = output.storage;
  const fresh = (s: Storage) => s !== out && (s.serial ?? -1) > scope.since;
  const mark = new Set<Storage>();
  for (const t of between) if (fresh(t.storage)) mark.add(t.storage);
  const first = scope.firstNode;
  const stack: GradNode[] = output.gradFn && output.gradFn.id >= first ? [output.gradFn] : [];
  const seen = new Set<GradNode>(stack);
  while (stack.length > 0) {
    const node = stack.pop() as GradNode;
    for (const t of node.savedTensors()) if (fresh(t.storage)) mark.add(t.storage);
    for (const e of node.next) {
      const n = e?.node;
      if (n && n.id >= first && !seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  for (const s of mark) markTransient(s);
}
