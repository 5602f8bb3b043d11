/**
 * Files that must never be left half-written, and safetensors files on disk. `writeFileAtomic`
 * writes a temporary file in the target's directory, flushes it to the disk (fsync), renames it
 * over the target (atomic on POSIX file systems) and syncs the directory, so after a crash the
 * target holds either its previous content or the new one, never a mix; the temporary file is
 * removed if anything fails. `appendLine` adds one line to a log (metrics.jsonl): a line that does
 * not fit (a full disk) is cut off again, so the file never ends in a torn line that the next one
 * would be glued to. Every failure is a `FileWriteError` naming the path and the cause (fsErrors.ts).
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseSafetensors, type SafetensorsContent, serializeSafetensors } from '../../format/safetensors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { describeFsError, FileWriteError, fsErrorCode } from './fsErrors.js';

let counter = 0;

/** Why `path` cannot be written before trying: it is a directory, or its directory is missing. */
function refusal(path: string): FileWriteError | null {
  try {
    if (statSync(path).isDirectory())
      return new FileWriteError(path, 'EISDIR', `cannot write ${path}: it is a directory (EISDIR)`);
  } catch (e) {
    if (fsErrorCode(e) !== 'ENOENT') return null; // the write itself will say what is wrong
    const dir = dirname(path);
    try {
      statSync(dir);
    } catch (d) {
      if (fsErrorCode(d) === 'ENOENT')
        return new FileWriteError(
          path,
          'ENOENT',
          `cannot write ${path}: its directory ${dir} does not exist (ENOENT)`,
        );
    }
  }
  return null;
}

/** Writes all of `data` at the file's current position. */
function writeAll(fd: number, data: Uint8Array): void {
  let at = 0;
  while (at < data.length) at += writeSync(fd, data, at, data.length - at);
}

/** Replaces `path` with `bytes` atomically (see the file's header); throws a FileWriteError. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const refused = refusal(path);
  if (refused) throw refused;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new FileWriteError(path, fsErrorCode(e), `cannot write ${path}: ${describeFsError(e)}`);
  }
  try {
    // The rename itself is durable once the directory entry is on disk.
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // Some platforms (Windows) cannot open a directory; the file itself is already synced.
  }
}

/** Appends `line` (with its newline) to `path`, whole or not at all; throws a FileWriteError. */
export function appendLine(path: string, line: string): void {
  const refused = refusal(path);
  if (refused) throw refused;
  let fd: number | undefined;
  let size = 0;
  try {
    fd = openSync(path, 'a');
    size = fstatSync(fd).size;
    writeAll(fd, Buffer.from(line.endsWith('\n') ? line : `${line}\n`));
  } catch (e) {
    if (fd !== undefined)
      try {
        ftruncateSync(fd, size); // cut a torn line off again (shrinking works on a full disk)
      } catch {
        // nothing more to do: a reader skips a torn last line
      }
    throw new FileWriteError(path, fsErrorCode(e), `cannot write ${path}: ${describeFsError(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes tensors (e.g. `model.stateDict()`) and string metadata as a safetensors file, atomically. */
export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** Reads a safetensors file (errors name the file). */
export function loadSafetensors(path: string): SafetensorsContent {
  return parseSafetensors(readFileSync(path), path);
}
