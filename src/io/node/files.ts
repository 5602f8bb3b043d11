/**
 * Files that must never be left half-written, and safetensors files on disk. `writeFileAtomic`
 * writes a temporary file in the target's directory, flushes it to the disk (fsync), renames it
 * over the target (atomic on POSIX file systems) and syncs the directory, so after a crash the
 * target holds either its previous content or the new one, never a mix; the temporary file is
 * removed if anything fails.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseSafetensors, type SafetensorsContent, serializeSafetensors } from '../../format/safetensors.js';
import type { Tensor } from '../../tensor/tensor.js';

let counter = 0;

/** Replaces `path` with `bytes` atomically (see the file's header). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let at = 0;
      while (at < data.length) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
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
