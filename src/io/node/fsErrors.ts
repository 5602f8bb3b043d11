/**
 * File-system failures as one line each: `describeFsError` turns a Node error (ENOSPC, EACCES,
 * EROFS, ENOENT, EISDIR, …) into its cause in words with the code, and `FileWriteError` is the
 * KeelError every write of keel's files raises — it names the path and the cause (`cannot write
 * runs/r/checkpoint.safetensors: no space left on the device (ENOSPC)`), so the command line prints
 * it as one line and exits 1, never a stack trace.
 */
import { KeelError } from '../../util/errors.js';

/** The causes keel names in words; any other code is given with Node's message. */
const CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a file stands where a directory is needed',
  EISDIR: 'it is a directory',
  EEXIST: 'a file of that name exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EBUSY: 'the resource is busy',
  EXDEV: 'not on the same file system',
};

/** The code of a Node system error, if it is one. */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** A file-system error's cause in words, with its code: `no space left on the device (ENOSPC)`. */
export function describeFsError(e: unknown, causes: Record<string, string> = {}): string {
  const code = fsErrorCode(e) ?? '';
  const words = causes[code] ?? CAUSES[code];
  if (words) return `${words} (${code})`;
  const msg = (e as Error)?.message ?? String(e);
  return code ? `${msg.replace(new RegExp(`^${code}: `), '').split(',')[0]} (${code})` : msg;
}

/** A file keel had to write could not be written. */
export class FileWriteError extends KeelError {
  constructor(
    /** The file that was being written. */
    readonly path: string,
    /** The error code (ENOSPC, EACCES, …), when the system gave one. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }

  /** The error for a failed write of `path`; a KeelError passes through unchanged. */
  static from(path: string, e: unknown, what = 'write'): KeelError {
    if (e instanceof KeelError) return e;
    return new FileWriteError(path, fsErrorCode(e), `cannot ${what} ${path}: ${describeFsError(e)}`);
  }
}
