/**
 * One writer per run directory. `lockRunDir(dir)` takes `dir`/.keel.lock for this process, or
 * refuses with a `RunLockedError` naming the holder — its PID, host, command and since when — and
 * what to do. The lock is npm `proper-lockfile`'s: a directory made with mkdir (atomic, also on
 * NFS), its mtime renewed by a timer every lease/2 (the heartbeat), judged stale once the mtime is
 * older than the lease, removed when the process exits, and `compromised` when someone else took it
 * (then every write through the lock's `check()` refuses with a `LockLostError`). Through the file
 * system adapter it is given here, keel adds three things to it:
 * - the holder: `owner.json` inside the lock directory (PID, host, command, since, a token), written
 *   as the directory is made, so the lock and its owner come and go together;
 * - PID liveness: on the same host, a lock whose process is gone (SIGKILL, a crash) counts as stale
 *   at once — no need to wait for the lease; across hosts sharing a directory, the lease decides;
 * - a safe takeover: a stale lock is removed only under a second, short-lived lock
 *   (.keel.lock.takeover) after checking again that it is still the stale one, so two processes that
 *   both saw a dead holder cannot both remove a lock and both run (one removes it and takes it; the
 *   other then finds a live holder and is refused).
 * A process may lock a directory it already holds (a sweep's trial, then the training inside it):
 * the lock is counted and released by the last `release()`.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { KeelError } from '../../util/errors.js';
import { describeFsError, FileWriteError, fsErrorCode } from './fsErrors.js';

/** The lock directory's name inside a run directory. */
export const LOCK_DIR = '.keel.lock';
const OWNER_FILE = 'owner.json';
/** How long a holder that stopped renewing keeps its lock (ms): 30 s, as `keel worker`'s --lock-duration. */
export const DEFAULT_LEASE_MS = 30_000;
/** A takeover in progress older than this was abandoned (its process died mid-takeover). */
const TAKEOVER_STALE_MS = 5_000;
/** Tries, 25 ms apart, while a lock names a dead holder that another process is taking over. */
const TAKEOVER_RETRIES = 40;

/** Who holds a run directory's lock (owner.json). */
export interface LockOwner {
  pid: number;
  host: string;
  /** The command that holds it (`keel train --resume runs/r`). */
  command: string;
  /** When it was taken (ISO 8601). */
  since: string;
  /** The lease in ms: how long after its last heartbeat the lock counts as abandoned. */
  lease: number;
  token: string;
}

/** A run directory another process is writing. */
export class RunLockedError extends KeelError {
  constructor(
    message: string,
    readonly owner: LockOwner | null,
  ) {
    super(message);
  }
}

/** This process lost its lock (another process took it over): it must stop writing. */
export class LockLostError extends KeelError {}

/** A held lock on a run directory. */
export interface RunLock {
  readonly dir: string;
  /** Throws a LockLostError if the lock was taken over since: call before each write. */
  check(): void;
  /** Releases it (the last release of a directory locked more than once removes the lock). */
  release(): void;
}

interface Held {
  token: string;
  count: number;
  release: () => void;
  lost?: Error;
}

/** Locks held by this process, by absolute directory. */
const held = new Map<string, Held>();
const ownTokens = new Set<string>();

/** The command line of this process, as a user would type it. */
function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  const script = basename(process.argv[1] ?? 'node').replace(/\.js$/, '');
  return `${script === 'keel' ? 'keel' : script}${args ? ` ${args}` : ''}`.slice(0, 200);
}

function readOwner(lockPath: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(join(lockPath, OWNER_FILE), 'utf8'));
    return typeof o?.pid === 'number' && typeof o?.host === 'string' ? (o as LockOwner) : null;
  } catch {
    return null;
  }
}

/** Whether process `pid` exists on this host (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return fsErrorCode(e) === 'EPERM';
  }
}

/** Whether the lock at `lockPath` (stat'ed as `st`) is abandoned: a dead holder here, or a lapsed lease. */
function abandoned(lockPath: string, st: fs.Stats, lease: number): boolean {
  const owner = readOwner(lockPath);
  if (owner && ownTokens.has(owner.token)) return false;
  if (owner && owner.host === hostname() && !alive(owner.pid)) return true;
  return st.mtimeMs < Date.now() - Math.max(lease, owner?.lease ?? 0);
}

/** Removes an abandoned lock under the takeover lock, after checking it is still abandoned. */
function takeOver(lockPath: string, lease: number): void {
  const guard = `${lockPath}.takeover`;
  try {
    fs.mkdirSync(guard);
  } catch (e) {
    if (fsErrorCode(e) !== 'EEXIST') throw e;
    const st = fs.statSync(guard, { throwIfNoEntry: false });
    if (st && st.mtimeMs > Date.now() - TAKEOVER_STALE_MS)
      throw Object.assign(new Error('another process is taking the lock over'), { code: 'ELOCKED' });
    fs.rmSync(guard, { recursive: true, force: true });
    fs.mkdirSync(guard);
  }
  try {
    const st = fs.statSync(lockPath, { throwIfNoEntry: false });
    if (st && !abandoned(lockPath, st, lease))
      throw Object.assign(new Error('the lock was taken meanwhile'), { code: 'ELOCKED' });
    fs.rmSync(lockPath, { recursive: true, force: true });
  } finally {
    fs.rmSync(guard, { recursive: true, force: true });
  }
}

/**
 * The file system proper-lockfile works through (its sync API calls the *Sync methods): a new lock
 * gets its owner.json, a lock of a dead holder stats as stale, and a stale lock is removed by
 * `takeOver`; our own lock is removed whole.
 */
function lockFs(owner: LockOwner, lease: number) {
  const isLock = (p: string) => basename(p) === LOCK_DIR;
  return {
    ...fs,
    mkdirSync(p: string) {
      fs.mkdirSync(p);
      if (!isLock(p)) return;
      try {
        const tmp = join(p, `.${OWNER_FILE}.tmp`);
        fs.writeFileSync(tmp, `${JSON.stringify(owner)}\n`);
        fs.renameSync(tmp, join(p, OWNER_FILE));
      } catch (e) {
        fs.rmSync(p, { recursive: true, force: true });
        throw e;
      }
    },
    statSync(p: string) {
      const st = fs.statSync(p);
      if (!isLock(p) || !abandoned(p, st, lease)) return st;
      // Abandoned: show proper-lockfile an old mtime, so that it removes the lock (rmdirSync below).
      return Object.assign(Object.create(Object.getPrototypeOf(st)), st, { mtime: new Date(0), mtimeMs: 0 });
    },
    rmdirSync(p: string) {
      if (!isLock(p)) return fs.rmdirSync(p);
      const o = readOwner(p);
      if (o && ownTokens.has(o.token)) fs.rmSync(p, { recursive: true, force: true });
      else takeOver(p, lease);
    },
  };
}

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** The one line that says who holds `dir` and what to do. */
function lockedMessage(dir: string, owner: LockOwner | null): string {
  if (!owner)
    return `${dir} is in use by another keel process (its lock ${join(dir, LOCK_DIR)} names no holder yet); wait for it to finish, or remove that directory if no keel runs there`;
  const here = owner.host === hostname();
  const who = `pid ${owner.pid} on ${here ? 'this host' : `host ${owner.host}`}, since ${when(owner.since)}: ${owner.command}`;
  const what = here
    ? `wait for it to finish or stop it (kill ${owner.pid}); if it dies, the next command takes the lock over`
    : `wait for it to finish or stop it there; if that machine is gone, its lock lapses ${Math.round(owner.lease / 1000)} s after its last heartbeat and the next command takes it over`;
  return `${dir} is in use by another keel process (${who}); ${what}`;
}

/**
 * Locks `dir` (which must exist) for this process, or throws a RunLockedError naming the holder (a
 * FileWriteError when the lock cannot be made at all: a read-only or full file system).
 */
export function lockRunDir(dir: string, o: { lease?: number } = {}): RunLock {
  const abs = resolve(dir);
  let h = held.get(abs);
  if (!h) {
    const lease = Math.max(2000, o.lease ?? DEFAULT_LEASE_MS);
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      command: commandLine(),
      since: new Date().toISOString(),
      lease,
      token: randomUUID(),
    };
    const lockPath = join(abs, LOCK_DIR);
    ownTokens.add(owner.token);
    let release: (() => void) | undefined;
    const entry: Held = { token: owner.token, count: 0, release: () => {} };
    // Refused while the lock still names a dead or unknown holder: another process is taking it
    // over right now. Try again for a moment, so that the refusal names the new holder (or we win).
    for (let attempt = 0; !release; attempt++) {
      try {
        release = lockfile.lockSync(abs, {
          lockfilePath: lockPath,
          realpath: false,
          stale: lease,
          fs: lockFs(owner, lease),
          onCompromised: (err) => {
            entry.lost = err;
          },
        });
      } catch (e) {
        const code = fsErrorCode(e);
        if (code !== 'ELOCKED' && code !== 'EEXIST' && code !== 'ENOTEMPTY') {
          ownTokens.delete(owner.token);
          throw new FileWriteError(lockPath, code, `cannot lock ${dir}: ${describeFsError(e)}`);
        }
        const holder = readOwner(lockPath);
        const st = fs.statSync(lockPath, { throwIfNoEntry: false });
        const settling = !holder || (st !== undefined && abandoned(lockPath, st, lease));
        if (!settling || attempt >= TAKEOVER_RETRIES) {
          ownTokens.delete(owner.token);
          throw new RunLockedError(lockedMessage(dir, holder), holder);
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
      }
    }
    entry.release = release;
    h = entry;
    held.set(abs, h);
  }
  h.count++;
  const entry = h;
  let released = false;
  return {
    dir: abs,
    check() {
      if (entry.lost)
        throw new LockLostError(
          `lost the lock on ${dir} (${entry.lost.message}): another process took the directory over; stopping so that two runs never write into one directory`,
        );
    },
    release() {
      if (released) return;
      released = true;
      if (--entry.count > 0) return;
      held.delete(abs);
      try {
        if (!entry.lost) entry.release();
      } catch {
        // already gone (taken over, or its directory removed): nothing of ours is left to remove
      }
      ownTokens.delete(entry.token);
    },
  };
}

/**
 * Locks `dir`, waiting while another live process holds it (a queue worker taking over a trial
 * whose first worker still runs it): polls every `pollMs` until the holder ends or its lock lapses.
 * `onWait` is told once who it waits for; an aborted `signal` stops the wait with its reason.
 */
export async function waitForRunLock(
  dir: string,
  o: {
    lease?: number;
    signal?: AbortSignal;
    pollMs?: number;
    onWait?: (e: RunLockedError) => void;
  } = {},
): Promise<RunLock> {
  let told = false;
  for (;;) {
    try {
      return lockRunDir(dir, o);
    } catch (e) {
      if (!(e instanceof RunLockedError)) throw e;
      if (!told) o.onWait?.(e);
      told = true;
    }
    o.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}
