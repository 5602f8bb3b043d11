/**
 * Output directories checked before anything is written: `ensureDir` creates a directory one level
 * at a time below its nearest existing ancestor, so a file in the way (`--out /etc/passwd`), a
 * directory that cannot be written, or a file system that refuses new entries (`--out /proc/x`,
 * where a recursive mkdir loops forever) gives one clear `OutputDirError` naming the path and the
 * cause, never a stack trace or a hang.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { KeelError } from '../../util/errors.js';
import { describeFsError } from './fsErrors.js';

/** An output directory that cannot be used. */
export class OutputDirError extends KeelError {}

/** ensureDir's ENOENT: a parent it just checked is there, so the file system refuses the entry. */
const MKDIR_CAUSES = { ENOENT: 'this file system does not accept new directories here' };

const why = (e: unknown) => describeFsError(e, MKDIR_CAUSES);

/** Makes sure `dir` is a writable directory, creating it (and missing parents); returns its absolute path. */
export function ensureDir(dir: string, what = 'output directory'): string {
  const target = resolve(dir);
  const missing: string[] = [];
  let cur = target;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new OutputDirError(`cannot use ${what} ${target}: ${cur}: ${why(e)}`);
    }
    if (st) {
      if (!st.isDirectory())
        throw new OutputDirError(`cannot use ${what} ${target}: ${cur} is a file, not a directory`);
      try {
        accessSync(cur, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw new OutputDirError(`cannot use ${what} ${target}: ${cur} is not writable: ${why(e)}`);
      }
      break;
    }
    missing.unshift(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw new OutputDirError(`cannot create ${what} ${target}: mkdir ${d}: ${why(e)}`);
    }
  }
  return target;
}
