/**
 * Serial numbers of storages: each storage a backend makes takes the next one, so code can tell
 * the storages made after a moment from those made before (the autograd engine recycles only the
 * gradients a backward sweep made itself), and can collect the storages made while a piece of code
 * runs (the engine hands back a backward rule's temporaries).
 */
import type { Storage } from './types.js';

let last = 0;
let collecting: Storage[] | null = null;

/** The next serial number (for a new storage). */
export function nextSerial(): number {
  return ++last;
}

/**
 * Starts collecting the storages made from now on into `into` (null stops); returns the previous
 * collector. Storages announce themselves with `noteMade`.
 */
export function collectMade(into: Storage[] | null): Storage[] | null {
  const prev = collecting;
  collecting = into;
  return prev;
}

/** Called by a storage when it is made (a no-op unless something collects). */
export function noteMade(s: Storage): void {
  if (collecting !== null) collecting.push(s);
}

/** The latest serial number handed out. */
export function lastSerial(): number {
  return last;
}
