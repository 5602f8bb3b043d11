/**
 * Which backend runs the kernels. Backends are created lazily on first use (so a Node program can
 * switch engine flags, such as relaxed SIMD, before the WebAssembly kernels compile). The default is
 * `wasm` wherever WebAssembly SIMD is available, else `js`; `setBackend(name)` switches (ops look the
 * backend up per call, so the switch takes effect immediately).
 */
import { ValueError } from '../util/errors.js';
import { jsBackend } from './js/index.js';
import type { Backend } from './types.js';
import { createWasmBackend } from './wasm/index.js';

const factories = new Map<string, () => Backend | null>([
  ['js', () => jsBackend],
  ['wasm', createWasmBackend],
]);
const instances = new Map<string, Backend | null>();
let active: Backend | null = null;

function instance(name: string): Backend | null {
  if (!instances.has(name)) instances.set(name, factories.get(name)?.() ?? null);
  return instances.get(name) ?? null;
}

/** Makes a backend available under its name. */
export function registerBackend(backend: Backend): void {
  factories.set(backend.name, () => backend);
  instances.delete(backend.name);
}

/** Names of the backends that can run here. */
export function availableBackends(): string[] {
  return [...factories.keys()].filter((n) => instance(n) !== null);
}

/** Selects the backend that runs kernels from now on. */
export function setBackend(name: string): void {
  if (!factories.has(name)) {
    throw new ValueError(
      `setBackend: unknown backend '${name}' (available: ${availableBackends().join(', ')})`,
    );
  }
  const b = instance(name);
  if (!b)
    throw new ValueError(
      `setBackend: backend '${name}' cannot run here (WebAssembly SIMD is missing); available: ${availableBackends().join(', ')}`,
    );
  active = b;
}

/** The active backend. */
export function backend(): Backend {
  if (!active) active = instance('wasm') ?? jsBackend;
  return active;
}

/** Name of the active backend. */
export function getBackend(): string {
  return backend().name;
}

/** The backend registered under `name` (null when it cannot run here), for tests and benchmarks. */
export function backendByName(name: string): Backend | null {
  return factories.has(name) ? instance(name) : null;
}
