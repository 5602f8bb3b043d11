/**
 * Nothing lost, nothing crashes — the built `keel` under faults, as a user meets them:
 * - two `keel train --resume` of one run at once: exactly one runs, the other is refused in one
 *   line naming the holder; the lock of a SIGKILLed holder is taken over;
 * - a full disk (a small tmpfs the test mounts): one line naming the checkpoint and the cause, exit
 *   1, no temporary file, the last checkpoint intact; with room again `--resume` ends with the same
 *   bytes as a run that never failed;
 * - a read-only file system (a read-only bind mount): resume, export and --out say so in one line;
 * - a directory or a missing directory where a file goes, output that cannot be written (stdout on
 *   /dev/full), and an analysis aimed at a training run's directory (refused, the run untouched).
 * The mounts need root (or CAP_SYS_ADMIN); where they cannot be made, those tests skip saying why.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../src/train/checkpoint.js';
import { KEEL, keel, root } from './keel-process.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-faults-'));

/** Moons with a 512-512 net under SGD: a checkpoint of about 1 MB, every epoch. */
function bigConfig(dir: string, name = 'big', epochs = 4): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(
    p,
    JSON.stringify({
      name,
      seed: 0,
      epochs,
      data: { dataset: 'moons', samples: 2000, batchSize: 64 },
      model: { hidden: [512, 512] },
      optimizer: { name: 'sgd', lr: 0.01 },
    }),
  );
  return p;
}

/** Trains the one-epoch run `small` into `out` (what the write-failure tests then aim at). */
async function trainSmall(out: string): Promise<void> {
  const done = await keel([
    '--out',
    out,
    'train',
    '--config',
    bigConfig(out, 'small', 1),
    '--no-diagnostics',
  ]);
  expect(done.code, done.stderr).toBe(0);
}

const mounted: string[] = [];

/** Runs `mount args… target`; returns why it could not, or null once it is mounted. */
function mount(args: string[], target: string): string | null {
  mkdirSync(target, { recursive: true });
  const r = spawnSync('mount', [...args, target]);
  if (r.error) return `mount is not available (${r.error.message})`;
  if (r.status !== 0) return `mount ${args.join(' ')} failed: ${r.stderr.toString().trim()}`;
  mounted.unshift(target);
  return null;
}

/** Whether this process may mount file systems (root or CAP_SYS_ADMIN): a throwaway tmpfs tells. */
const mountRefusal = (() => {
  const probe = join(tmpdir(), `keel-mount-probe-${process.pid}`);
  const why = mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], probe);
  if (!why) {
    spawnSync('umount', [probe]);
    mounted.shift();
  }
  return why;
})();
if (mountRefusal)
  console.warn(`faults-process.test: skipping the full-disk and read-only tests: ${mountRefusal}`);

afterAll(() => {
  for (const m of mounted) spawnSync('umount', ['-l', m]);
});

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);
const tmpFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe.runIf(existsSync(KEEL))('faults and bad paths (the built CLI)', () => {
  it('two resumes of one run at once: exactly one runs, the other names it; a SIGKILLed holder is taken over', async () => {
    const out = tmp();
    const cfg = bigConfig(out, 'r', 400);
    const dir = join(out, 'r');
    // A run SIGKILLed once its first checkpoint exists: its lock is left behind, its holder dead.
    const first = await keel(['--out', out, 'train', '--config', cfg, '--no-diagnostics'], {
      timeout: 60_000,
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (existsSync(join(dir, 'checkpoint.safetensors'))) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 5);
      },
    });
    expect(first.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, '.keel.lock'))).toBe(true);
    // Two resumes at once: one takes the dead holder's lock over and trains; the other is refused.
    const children: ChildProcess[] = [];
    const resume = (i: number) =>
      keel(['train', '--resume', dir, '--no-diagnostics'], {
        timeout: 60_000,
        onSpawn: (c) => {
          children[i] = c;
        },
      }).then((r) => ({ r, i }));
    const both = [resume(0), resume(1)];
    // The one refused ends at once with one line; then the one training is stopped (SIGINT).
    const loser = await Promise.race(both);
    expect(loser.r.code).toBe(1);
    expect(loser.r.stderr.trim().split('\n')).toHaveLength(1);
    expect(loser.r.stderr).toMatch(
      /^keel: \S+\/r is in use by another keel process \(pid \d+ on this host, since .*: keel train --resume .*\); wait for it to finish or stop it \(kill \d+\)/,
    );
    children[1 - loser.i].kill('SIGINT');
    const w = (await both[1 - loser.i]).r;
    expect(w.code, w.stderr).toBe(130);
    noStack(w.stderr);
    // One run wrote the metrics: every epoch once, in order.
    const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"epoch"'))
      .map((l) => JSON.parse(l).epoch as number);
    expect(epochs).toEqual(epochs.map((_, i) => i + 1));
    expect(existsSync(join(dir, '.keel.lock'))).toBe(false);
  }, 90_000);

  it.skipIf(mountRefusal !== null)(
    'a full disk: one line naming the checkpoint, exit 1, no temporary file, the last checkpoint intact; --resume then ends as a run that never failed',
    async () => {
      const ref = tmp();
      const full = await keel(['--out', ref, 'train', '--config', bigConfig(ref), '--no-diagnostics']);
      expect(full.code, full.stderr).toBe(0);
      const disk = join(tmp(), 'disk');
      // Room for one checkpoint (~1 MB) and the small files, not for a second beside it.
      expect(mount(['-t', 'tmpfs', '-o', 'size=2000k', 'tmpfs'], disk)).toBeNull();
      const cfg = bigConfig(tmp());
      const r = await keel(['--out', disk, 'train', '--config', cfg, '--no-diagnostics']);
      expect(r.code).toBe(1);
      noStack(r.stderr);
      const [line, report] = r.stderr.trim().split('\n');
      expect(line).toBe(
        `keel: cannot write ${disk}/big/checkpoint.safetensors: no space left on the device (ENOSPC). The last checkpoint (${disk}/big/checkpoint.safetensors) is intact: once the file can be written (free space, fix permissions), continue with 'keel train --resume ${disk}/big'`,
      );
      expect(report).toMatch(/^keel: the report of what ran before the error: |could not be written/);
      const dir = join(disk, 'big');
      expect(tmpFiles(dir)).toEqual([]);
      const ckpt = join(dir, 'checkpoint.safetensors');
      const saved = parseCheckpoint(readFileSync(ckpt), ckpt);
      expect(saved.state.position.epoch).toBeGreaterThanOrEqual(1);
      // Room again: the resumed run ends with the bytes of the run that never failed.
      expect(spawnSync('mount', ['-o', 'remount,size=20000k', disk]).status).toBe(0);
      const resumed = await keel(['train', '--resume', dir, '--no-diagnostics']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(readFileSync(join(dir, 'model.safetensors'))).toEqual(
        readFileSync(join(ref, 'big', 'model.safetensors')),
      );
      expect(readFileSync(ckpt)).toEqual(readFileSync(join(ref, 'big', 'checkpoint.safetensors')));
    },
    120_000,
  );

  it.skipIf(mountRefusal !== null)(
    'a read-only file system: resume, export and --out each say so in one line',
    async () => {
      const base = tmp();
      await trainSmall(base);
      const ro = join(tmp(), 'ro');
      expect(mount(['--bind', base], ro)).toBeNull();
      expect(spawnSync('mount', ['-o', 'remount,bind,ro', ro]).status).toBe(0);
      const resumed = await keel(['train', '--resume', join(ro, 'small'), '--no-diagnostics']);
      expect(resumed.code).toBe(1);
      expect(resumed.stderr.trim()).toMatch(
        new RegExp(
          `^keel: cannot use output directory ${ro}: ${ro} is not writable: read-only file system \\(EROFS\\)$`,
        ),
      );
      const exported = await keel([
        'export',
        '--checkpoint',
        join(ro, 'small'),
        '--onnx',
        join(ro, 'm.onnx'),
      ]);
      expect(exported.code).toBe(1);
      expect(exported.stderr.trim()).toBe(
        `keel: cannot write ${join(ro, 'm.onnx')}: read-only file system (EROFS)`,
      );
      const trained = await keel(['--out', join(ro, 'runs'), 'train', '--config', bigConfig(tmp(), 'x', 1)]);
      expect(trained.code).toBe(1);
      expect(trained.stderr.trim().split('\n')).toHaveLength(1);
      expect(trained.stderr).toMatch(/read-only file system \(EROFS\)/);
      // Nothing of the run was touched.
      expect(readdirSync(join(base, 'small')).sort()).toEqual(readdirSync(join(ro, 'small')).sort());
    },
    60_000,
  );

  it('a directory, a missing directory or an unwritable output where a file goes: one line, exit 1', async () => {
    const out = tmp();
    await trainSmall(out);
    const run = join(out, 'small');
    const cases: [string[], string][] = [
      [
        ['export', '--checkpoint', run, '--onnx', out],
        `keel: cannot write ${out}: it is a directory (EISDIR)`,
      ],
      [
        ['export', '--checkpoint', run, '--safetensors', join(out, 'no', 'such', 'w.safetensors')],
        `keel: cannot write ${join(out, 'no', 'such', 'w.safetensors')}: its directory ${join(out, 'no', 'such')} does not exist (ENOENT)`,
      ],
      [
        ['export', '--checkpoint', run, '--onnx', '/proc/x.onnx'],
        'keel: cannot write /proc/x.onnx: no such file or directory (ENOENT)',
      ],
    ];
    for (const [args, line] of cases) {
      const r = await keel(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim()).toBe(line);
      expect(tmpFiles(out)).toEqual([]);
    }
    // Predictions onto a full device: one line; into a closed pipe: a quiet end.
    const input = join(out, 'in.json');
    writeFileSync(input, JSON.stringify([[0.1, 0.2]]));
    const fd = openSync('/dev/full', 'w');
    const full = spawnSync(
      process.execPath,
      [KEEL, 'predict', '--checkpoint', run, '--input', input, '--json'],
      {
        cwd: root,
        stdio: ['ignore', fd, 'pipe'],
      },
    );
    closeSync(fd);
    expect(full.status).toBe(1);
    expect(full.stderr.toString().trim()).toBe(
      'keel: cannot write the output: no space left on the device (ENOSPC)',
    );
    const piped = spawnSync('sh', [
      '-c',
      `"${process.execPath}" "${KEEL}" predict --checkpoint "${run}" --input "${input}" | head -c 1`,
    ]);
    expect(piped.stderr.toString()).toBe('');
  }, 60_000);

  it('an analysis or experiment aimed at a training run’s directory is refused, and the run is untouched', async () => {
    const out = tmp();
    await trainSmall(out);
    const before = readFileSync(join(out, 'small', 'checkpoint.safetensors'));
    const r = await keel([
      '--out',
      out,
      'shift',
      '--checkpoint',
      join(out, 'small'),
      '--target',
      'moons:test',
      '--name',
      'small',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `keel: ${join(out, 'small')} holds a training run (its checkpoint.safetensors); write this elsewhere (another name or --out), or remove that run first`,
    );
    expect(readFileSync(join(out, 'small', 'checkpoint.safetensors'))).toEqual(before);
  }, 60_000);
});
