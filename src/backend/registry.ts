/**
 * Which backend runs the kernels. Backends register by name; `setBackend` switches the active one
 * (ops look it up per call, so switching takes effect immediately). `js` is always present.
 */
import { ValueError } from '../util/errors.js';
import { jsBackend } from './js/index.js';
import type { Backend } from './types.js';

const backends = new Map<string, Backend>([['js', jsBackend]]);
let active: Backend = jsBackend;

/** Makes a backend available under its name. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Selects the backend that runs kernels from now on. */
export function setBackend(name: string): void {
  const b = backends.get(name);
  if (!b) {
    throw new ValueError(
      `setBackend: unknown backend '${name}' (available: ${[...backends.keys()].join(', ')})`,
    );
  }
  active = b;
}

/** The active backend. */
export function backend(): Backend {
  return active;
}

/** Name of the active backend. */
export function getBackend(): string {
  return active.name;
}
