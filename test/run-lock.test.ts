/**
 * The run directory lock (src/io/node/runLock.ts) in one process and across processes: a live
 * holder is refused naming its PID, host, command and start; a holder that died on this host is
 * taken over at once (PID liveness); one on another host only once its lease lapsed (heartbeat);
 * many processes racing for a dead holder's lock: exactly one wins; a lock taken over behind a
 * holder's back makes its next write refuse (LockLostError); the same process may lock a directory
 * twice (a trial, then the training inside it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_DIR, LockLostError, lockRunDir, RunLockedError } from '../src/io/node/runLock.js';
import { root } from './keel-process.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-lock-'));

/** A PID that is certainly not running: a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

/** Plants a lock as another process would have left it. */
function plant(dir: string, owner: { pid: number; host: string; lease?: number }, ageMs = 0): void {
  const lock = join(dir, LOCK_DIR);
  mkdirSync(lock, { recursive: true });
  writeFileSync(
    join(lock, 'owner.json'),
    JSON.stringify({
      command: 'keel train --config run.json',
      since: new Date(Date.now() - ageMs).toISOString(),
      lease: 30_000,
      token: 'planted',
      ...owner,
    }),
  );
  const t = new Date(Date.now() - ageMs);
  utimesSync(lock, t, t);
}

describe('run directory locks', () => {
  it('refuses a second holder with one line naming it; takes a dead holder’s lock over at once', () => {
    const dir = tmp();
    plant(dir, { pid: process.ppid, host: hostname() }); // alive: the test runner's parent
    let err: unknown;
    try {
      lockRunDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunLockedError);
    const msg = (err as Error).message;
    expect(msg).toContain(`is in use by another keel process (pid ${process.ppid} on this host, since `);
    expect(msg).toContain('keel train --config run.json');
    expect(msg).toContain(`kill ${process.ppid}`);
    expect(msg.split('\n')).toHaveLength(1);

    // The holder died (SIGKILL): the next one takes the lock over, and owner.json names it.
    rmSync(join(dir, LOCK_DIR), { recursive: true });
    plant(dir, { pid: deadPid(), host: hostname() });
    const lock = lockRunDir(dir);
    const owner = JSON.parse(readFileSync(join(dir, LOCK_DIR, 'owner.json'), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    lock.check();
    lock.release();
    expect(existsSync(join(dir, LOCK_DIR))).toBe(false);
  });

  it('another host: its lock holds while its lease runs, and is taken over once it lapsed', () => {
    const dir = tmp();
    // A PID that is dead here says nothing about another machine: only the heartbeat counts there.
    plant(dir, { pid: deadPid(), host: 'elsewhere', lease: 5000 }, 1000);
    expect(() => lockRunDir(dir, { lease: 5000 })).toThrow(
      /pid \d+ on host elsewhere.*its lock lapses 5 s after its last heartbeat/,
    );
    plant(dir, { pid: deadPid(), host: 'elsewhere', lease: 5000 }, 6000);
    const lock = lockRunDir(dir, { lease: 5000 });
    lock.release();
  });

  it('the same process may lock a directory twice; the last release removes the lock', () => {
    const dir = tmp();
    const a = lockRunDir(dir);
    const b = lockRunDir(dir);
    a.release();
    expect(existsSync(join(dir, LOCK_DIR))).toBe(true);
    b.release();
    expect(existsSync(join(dir, LOCK_DIR))).toBe(false);
  });

  it('a lock taken over behind its holder’s back makes the holder’s next write refuse', async () => {
    const dir = tmp();
    const lock = lockRunDir(dir, { lease: 2000 });
    // Someone removes it and takes the directory (as a takeover after a lapsed lease would).
    rmSync(join(dir, LOCK_DIR), { recursive: true });
    plant(dir, { pid: process.ppid, host: hostname() });
    // The heartbeat (every lease/2 = 1 s) finds the lock no longer its own.
    await new Promise((r) => setTimeout(r, 1600));
    expect(() => lock.check()).toThrow(LockLostError);
    expect(() => lock.check()).toThrow(/lost the lock on .*stopping so that two runs never write/);
    lock.release(); // does not remove the other holder's lock
    expect(existsSync(join(dir, LOCK_DIR, 'owner.json'))).toBe(true);
  });

  it('eight processes race for a dead holder’s lock: exactly one gets it', async () => {
    const dir = tmp();
    plant(dir, { pid: deadPid(), host: hostname() });
    const url = new URL('../dist/io/node/runLock.js', `file://${root}/`).href;
    const script = `
      const { lockRunDir } = await import(${JSON.stringify(url)});
      try { lockRunDir(${JSON.stringify(dir)}); console.log('got'); await new Promise((r) => setTimeout(r, 1500)); }
      catch (e) { console.log(e.constructor.name); }`;
    const runs = Array.from(
      { length: 8 },
      () =>
        new Promise<string>((resolve) => {
          const c = spawn(process.execPath, ['--input-type=module', '-e', script]);
          let out = '';
          c.stdout.on('data', (d) => {
            out += d;
          });
          c.on('close', () => resolve(out.trim()));
        }),
    );
    const outs = await Promise.all(runs);
    expect(outs.filter((o) => o === 'got')).toHaveLength(1);
    expect(outs.filter((o) => o === 'RunLockedError')).toHaveLength(7);
  }, 30_000);
});
