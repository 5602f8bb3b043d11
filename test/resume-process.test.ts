/**
 * Nothing lost on a crash: `keel train` in a child process is SIGKILLed at seeded random moments —
 * inside an epoch, and as soon as a checkpoint's temporary file shows up (a kill during the write)
 * — resumed with `keel train --resume`, killed and resumed again, and its final checkpoint and
 * weights must equal an uninterrupted run's byte for byte. Also: a second `keel train` into the same
 * run directory refuses without --resume or --force, --resume refuses extra flags, and experiments
 * and graphs (outputs, not runs to resume) rerun in place.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/index.js';
import { KEEL, keel } from './keel-process.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-resume-'));

/** Moons, dropout, Adam with a step schedule; a checkpoint about every millisecond (every step). */
function config(dir: string): string {
  const p = join(dir, 'run.json');
  writeFileSync(
    p,
    JSON.stringify({
      name: 'r',
      seed: 3,
      epochs: 16,
      data: { dataset: 'moons', samples: 3000, batchSize: 16, validation: 0.2 },
      model: { hidden: [64, 64], dropout: 0.2 },
      optimizer: { name: 'adam', lr: 0.01, weightDecay: 0.001 },
      schedule: { name: 'step', stepSize: 2, gamma: 0.5 },
      checkpoint: { everyEpochs: 1, minutes: 0.00002 },
    }),
  );
  return p;
}

const ARGS = ['--no-diagnostics'];

/** Starts a run (or a resume) and lets `when` SIGKILL it; resolves once it is gone. */
function killed(args: string[], when: (child: ChildProcess) => void) {
  return keel(args, { timeout: 60_000, onSpawn: when });
}

describe.runIf(existsSync(KEEL))('a killed run resumes to the same bytes', () => {
  it('SIGKILL inside epochs and during checkpoint writes, resumed twice: final checkpoint and weights are identical', async () => {
    const ref = tmp();
    const full = await keel(['--out', ref, 'train', '--config', config(ref), ...ARGS], { timeout: 60_000 });
    expect(full.code, full.stderr).toBe(0);
    const finalRef = readFileSync(join(ref, 'r', 'checkpoint.safetensors'));
    const modelRef = readFileSync(join(ref, 'r', 'model.safetensors'));

    let caughtWrite = false;
    for (const seed of [1, 2, 3]) {
      const g = new Rng(seed);
      const out = tmp();
      const dir = join(out, 'r');
      const cfg = config(out);
      // Kill 1: a random moment after the first checkpoint exists (inside some epoch).
      const first = await killed(['--out', out, 'train', '--config', cfg, ...ARGS], (child) => {
        const poll = setInterval(() => {
          if (existsSync(join(dir, 'checkpoint.safetensors'))) {
            clearInterval(poll);
            setTimeout(() => child.kill('SIGKILL'), 20 + g.random() * 300);
          }
        }, 2);
      });
      expect(first.signal, first.stderr).toBe('SIGKILL');
      // Kill 2, during the resumed run: as soon as a checkpoint's temporary file appears.
      const second = await killed(['--out', out, 'train', '--resume', dir, ...ARGS], (child) => {
        const start = Date.now();
        const poll = setInterval(() => {
          const tmpFile = existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.tmp'));
          if (tmpFile || Date.now() - start > 100 + g.random() * 300) {
            caughtWrite ||= tmpFile;
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 0);
      });
      expect(second.signal === 'SIGKILL' || second.code === 0, second.stderr).toBe(true);
      // The checkpoint on disk is whole either way: the resume reads it and finishes.
      const done = await keel(['--out', out, 'train', '--resume', dir, ...ARGS], { timeout: 60_000 });
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/resuming r at epoch \d+, batch \d+ \(step \d+ done\)/);
      expect(
        readFileSync(join(dir, 'checkpoint.safetensors')).equals(finalRef),
        `seed ${seed}: final checkpoint`,
      ).toBe(true);
      expect(
        readFileSync(join(dir, 'model.safetensors')).equals(modelRef),
        `seed ${seed}: final weights`,
      ).toBe(true);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // The metrics hold each epoch once, as the uninterrupted run's do.
      const epochs = (p: string) =>
        readFileSync(p, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"type":"epoch"'))
          .map((l) => JSON.parse(l).epoch);
      expect(epochs(join(dir, 'metrics.jsonl'))).toEqual(epochs(join(ref, 'r', 'metrics.jsonl')));
    }
    // Reported, not asserted: whether a kill landed while a temporary file existed (timing-dependent).
    console.log(`a kill landed during a checkpoint write: ${caughtWrite}`);
  }, 240_000);

  it('refuses to overwrite a run without --resume or --force, and --resume takes no overrides', async () => {
    const out = tmp();
    const cfg = config(out);
    const args = ['--out', out, 'train', '--config', cfg, '--epochs', '1', ...ARGS];
    expect((await keel(args)).code).toBe(0);
    const again = await keel(args);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /already holds a run; continue it with 'keel train --resume .*r', or start it over with --force/,
    );
    expect(again.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    expect((await keel([...args, '--force'])).code).toBe(0);
    const bad = await keel(['--out', out, 'train', '--resume', join(out, 'r'), '--epochs', '3']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /--resume continues the run exactly as it was configured \(its config\.json\); drop --epochs/,
    );
    // Experiments (and so the demo, `npm start`) and graphs are outputs that rerun in place.
    for (let i = 0; i < 2; i++) {
      const e = await keel(['--out', out, 'experiment', 'memory', '--quick']);
      expect(e.code, e.stderr).toBe(0);
      const gr = await keel(['--out', out, 'graph', '--config', cfg]);
      expect(gr.code, gr.stderr).toBe(0);
    }
  });
});
