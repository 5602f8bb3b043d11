/**
 * Serial numbers of storages: each storage a backend makes takes the next one, so code can tell
 * the storages made after a moment from those made before (the autograd engine recycles only the
 * gradients a backward sweep made itself).
 */
let last = 0;

/** The next serial number (for a new storage). */
export function nextSerial(): number {
  return ++last;
}

/** The latest serial number handed out. */
export function lastSerial(): number {
  return last;
}
