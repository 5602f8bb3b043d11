/**
 * Which backend runs the kernels. Backends are created lazily on first use (so a Node program can
 * switch engine flags, such as relaxed SIMD, before the WebAssembly kernels compile). The default is
 * the first of `native` (the system BLAS; registered by keel/node where it loads), `wasm` (wherever
 * WebAssembly SIMD runs) and `js` that can run here; `setBackend(name)` switches (ops look the
 * backend up per call, so the switch takes effect immediately). A backend that cannot run says why
 * (`backendProblems`), which `keel info` prints with the fix.
 */
import { ValueError } from '../util/errors.js';
import { jsBackend } from './js/index.js';
import type { Backend } from './types.js';
import { createWasmBackend } from './wasm/index.js';

/** Backends in order of preference for the default. */
const PREFERENCE = ['native', 'wasm', 'js'];

const factories = new Map<string, () => Backend | null>([
  ['js', () => jsBackend],
  ['wasm', createWasmBackend],
]);
const instances = new Map<string, Backend | null>();
const problems = new Map<string, string>([
  ['native', 'not registered: import keel/node (Node.js only) to look for the system BLAS'],
]);
let active: Backend | null = null;
/** Whether `setBackend` chose the active backend (else it is the default, re-chosen on registration). */
let chosen = false;

function instance(name: string): Backend | null {
  if (!instances.has(name)) {
    const b = factories.get(name)?.() ?? null;
    instances.set(name, b);
    if (!b && !problems.has(name))
      problems.set(name, name === 'wasm' ? 'this engine has no WebAssembly SIMD' : 'it cannot run here');
  }
  return instances.get(name) ?? null;
}

/** Makes a backend available under its name (created on first use by `create`). */
export function registerBackend(name: string, create: () => Backend | null): void {
  factories.set(name, create);
  instances.delete(name);
  problems.delete(name);
  if (!chosen || active?.name === name) active = null;
}

/** Records why a backend cannot run here (shown by `keel info` and `setBackend`'s error). */
export function backendUnavailable(name: string, reason: string): void {
  problems.set(name, reason);
}

/** Names of the backends that can run here, in order of preference. */
export function availableBackends(): string[] {
  const names = [...PREFERENCE, ...[...factories.keys()].filter((n) => !PREFERENCE.includes(n))];
  return names.filter((n) => factories.has(n) && instance(n) !== null);
}

/** Why each backend that cannot run here does not (name → reason). */
export function backendProblems(): Record<string, string> {
  for (const n of factories.keys()) instance(n);
  return Object.fromEntries([...problems].filter(([n]) => !(factories.has(n) && instances.get(n))));
}

/**
 * A backend on host memory, for work that reads values synchronously or computes nothing while a
 * GPU backend is active: wasm, else js.
 */
export function hostBackend(): Backend {
  return backendByName('wasm') ?? (backendByName('js') as Backend);
}

/** Selects the backend that runs kernels from now on. */
export function setBackend(name: string): void {
  const known = new Set([...PREFERENCE, ...factories.keys()]);
  if (!known.has(name)) {
    throw new ValueError(
      `setBackend: unknown backend '${name}' (available: ${availableBackends().join(', ')})`,
    );
  }
  const b = factories.has(name) ? instance(name) : null;
  if (!b)
    throw new ValueError(
      `setBackend: backend '${name}' cannot run here (${problems.get(name) ?? 'not available'}); available: ${availableBackends().join(', ')}`,
    );
  active = b;
  chosen = true;
}

/** The active backend. */
export function backend(): Backend {
  if (!active) {
    for (const n of PREFERENCE) {
      const b = factories.has(n) ? instance(n) : null;
      if (b) {
        active = b;
        break;
      }
    }
    active ??= jsBackend;
  }
  return active;
}

/**
 * @internal Runs `fn` with `b` as the active backend (the compile layer's tracer wraps the active
 * backend this way), then restores the previous one.
 */
export function withBackend<T>(b: Backend, fn: () => T): T {
  const prev = backend();
  const prevChosen = chosen;
  active = b;
  try {
    return fn();
  } finally {
    active = prev;
    chosen = prevChosen;
  }
}

/** Name of the active backend. */
export function getBackend(): string {
  return backend().name;
}

/** The backend registered under `name` (null when it cannot run here), for tests and benchmarks. */
export function backendByName(name: string): Backend | null {
  return factories.has(name) ? instance(name) : null;
}

/** Receives the host steps run while a plan is being recorded (set by the compile layer's tracer). */
let hostRecorder: ((fn: () => void) => void) | null = null;

/**
 * Runs `fn` — JS state that belongs to a computation, such as an optimizer's step count and the
 * hyper-parameters its update kernel reads — now, and, while a compiled step is being traced,
 * records it to run again at the same point of every replay (kernels alone would not advance it).
 */
export function hostOp(fn: () => void): void {
  fn();
  hostRecorder?.(fn);
}

/** @internal The tracer's hook: what `hostOp` records into (null: none). Returns the previous one. */
export function setHostRecorder(r: ((fn: () => void) => void) | null): ((fn: () => void) => void) | null {
  const prev = hostRecorder;
  hostRecorder = r;
  return prev;
}
