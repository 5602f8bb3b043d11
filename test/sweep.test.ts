/**
 * Sweeps: the sweep file expands into the same named trials every time (grid product, seeded random
 * draws), bad axes are one error naming the axis and the field; the built `keel sweep` runs 8 moons
 * trials on 2 local worker processes with the same results as each trial run alone; killed with
 * SIGKILL halfway, a re-run completes only the missing trials; a trial that fails is recorded and
 * the sweep goes on; the report ranks the trials.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTraining } from '../src/io/node/train.js';
import { parseSweep } from '../src/sweep/spec.js';
import { keel } from './keel-process.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-sweep-'));

const base = {
  epochs: 2,
  data: { dataset: 'moons', samples: 400, batchSize: 32, validation: 0.2 },
  model: { hidden: [16] },
  optimizer: { name: 'adam', lr: 0.01 },
};

describe('sweep files', () => {
  it('expand into a grid × seeded random draws with stable names and validated configs', () => {
    const raw = {
      name: 's',
      base,
      axes: {
        'optimizer.weightDecay': [0, 0.1],
        seed: [0, 1, 2],
        'optimizer.lr': { logUniform: [0.001, 0.1] },
        'model.hidden': { choice: [[8], [16, 16]] },
      },
      samples: 2,
    };
    const s = parseSweep(raw);
    expect(s.trials.length).toBe(2 * 3 * 2);
    expect(s.trials.map((t) => t.name).slice(0, 3)).toEqual(['t000', 't001', 't002']);
    expect(s.trials[0].params).toMatchObject({ 'optimizer.weightDecay': 0, seed: 0 });
    expect(s.trials[2].params).toMatchObject({ 'optimizer.weightDecay': 0, seed: 1 });
    for (const t of s.trials) {
      const lr = t.params['optimizer.lr'] as number;
      expect(lr).toBeGreaterThanOrEqual(0.001);
      expect(lr).toBeLessThanOrEqual(0.1);
      expect(t.config.optimizer.lr).toBe(lr);
      expect(t.config.name).toBe(t.name);
      expect(t.config.data.dataset).toBe('moons');
    }
    // The same file, the same trials (what makes a re-run resume).
    expect(parseSweep(raw).trials).toEqual(s.trials);
    expect(s.metric).toEqual({ name: 'testAccuracy', goal: 'max' });
    expect(parseSweep({ ...raw, metric: { name: 'gap' } }).metric.goal).toBe('min');
  });

  it('a bad axis is one error naming the trial, the field and what is allowed', () => {
    expect(() => parseSweep({ base, axes: { 'optimizer.weightDecy': [0, 1] } })).toThrow(
      /trial t000: optimizer.weightDecy=0[\s\S]*config.optimizer: Unrecognized key/,
    );
    expect(() => parseSweep({ base, axes: { 'optimizer.lr': [0.1, -1] } })).toThrow(
      /trial t001: optimizer.lr=-1[\s\S]*config.optimizer.lr: Too small/,
    );
    expect(() => parseSweep({ base, axes: {} })).toThrow(/sweep.axes: give at least one axis/);
    expect(() => parseSweep({ base, axes: { 'optimizer.lr': { logUniform: [0, 1] } } })).toThrow(
      /logUniform needs low > 0/,
    );
    expect(() => parseSweep({ base, axes: { 'epochs.x': [1] } })).toThrow(
      /'epochs' is a value in the base config/,
    );
  });
});

describe('keel sweep (local worker processes)', () => {
  const sweepFile = (dir: string, extra: Record<string, unknown> = {}) => {
    const path = join(dir, 'sweep.json');
    writeFileSync(
      path,
      JSON.stringify({
        name: 'wd',
        base,
        axes: { 'optimizer.weightDecay': [0, 0.01, 0.1, 1], seed: [0, 1] },
        metric: { name: 'testLoss' },
        ...extra,
      }),
    );
    return path;
  };
  const results = (dir: string) =>
    Object.fromEntries(
      readdirSync(join(dir, 'wd'))
        .filter((t) => existsSync(join(dir, 'wd', t, 'result.json')))
        .map((t) => [t, JSON.parse(readFileSync(join(dir, 'wd', t, 'result.json'), 'utf8'))]),
    );

  it('8 trials on 2 workers give the same metrics as each trial alone; the report ranks them', async () => {
    const out = tmp();
    const r = await keel(['--out', out, 'sweep', '--config', sweepFile(out), '--workers', '2', '--json'], {
      timeout: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.trials.length).toBe(8);
    expect(printed.trials.every((t: { state: string }) => t.state === 'done')).toBe(true);
    const losses = printed.trials.map((t: { metric: number }) => t.metric);
    expect(losses).toEqual([...losses].sort((a, b) => a - b));
    expect(r.stderr).toMatch(/8 to run on 2 local worker processes, 1 thread each/);
    const res = results(out);
    // Two processes ran them.
    expect(new Set(Object.values(res).map((x) => (x as { worker: string }).worker)).size).toBe(2);
    // Each trial alone, in this process: the same numbers.
    const s = parseSweep(JSON.parse(readFileSync(join(out, 'wd', 'sweep.json'), 'utf8')));
    for (const t of s.trials.filter((_, i) => i % 3 === 0)) {
      const alone = await runTraining(t.config, {
        out: tmp(),
        log: () => {},
        tty: false,
        diagnostics: false,
      });
      const last = alone.history.epochs[alone.history.epochs.length - 1];
      expect(res[t.name].metrics.testLoss).toBe(last.testLoss);
      expect(res[t.name].metrics.trainLoss).toBe(last.trainLoss);
    }
    const html = readFileSync(join(out, 'wd', 'report.html'), 'utf8');
    expect(html).toContain('All 8 trials finished.');
    expect(html).toContain('against optimizer.weightDecay');
    expect(existsSync(join(out, 'wd', 't003', 'report.html'))).toBe(true);
    // Nothing left to do: a re-run skips all 8.
    const again = await keel(['--out', out, 'sweep', '--config', sweepFile(out)], { timeout: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/all 8 trials finished before/);
  }, 240_000);

  it('SIGKILLed halfway, a re-run completes only the missing trials', async () => {
    const out = tmp();
    const file = sweepFile(out, { base: { ...base, epochs: 6 } });
    const killed = await keel(['--out', out, 'sweep', '--config', file, '--workers', '2'], {
      timeout: 120_000,
      onStdout: (text, child) => {
        if (/^\[3\/8\]/m.test(text)) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const beforeResults = results(out);
    const before = Object.keys(beforeResults);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(8);
    const rerun = await keel(['--out', out, 'sweep', '--config', file, '--workers', '2', '--json'], {
      timeout: 120_000,
    });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`${before.length} finished before (skipped); ${8 - before.length} to run`);
    const after = results(out);
    expect(Object.keys(after).length).toBe(8);
    // The finished trials were not run again: their results (with the process that ran them) are untouched.
    for (const t of before) expect(after[t]).toEqual(beforeResults[t]);
    const done = JSON.parse(rerun.stdout).trials.filter((t: { state: string }) => t.state === 'done').length;
    expect(done).toBe(8);
  }, 240_000);

  it('a failing trial is recorded and the sweep goes on; exit code 2', async () => {
    const out = tmp();
    // lr = 1e6 diverges at once; with onNonFinite 'stop' it ends 'diverged', not failed. A config the
    // data cannot build fails: fashion-mnist from an empty $KEEL_DATA.
    const file = join(out, 'sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'wd',
        base,
        axes: { 'data.dataset': ['moons', 'fashion-mnist', 'xor'] },
      }),
    );
    const empty = mkdtempSync(join(tmpdir(), 'keel-empty-'));
    const r = await keel(['--out', out, 'sweep', '--config', file, '--workers', '2'], {
      timeout: 120_000,
      env: { KEEL_DATA: empty },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/t001 \(data.dataset="fashion-mnist"\) failed: .*KEEL_DATA/);
    expect(r.stdout).toMatch(/1 trial failed: t001/);
    expect(JSON.parse(readFileSync(join(out, 'wd', 't001', 'error.json'), 'utf8')).error).toMatch(
      /KEEL_DATA/,
    );
    expect(Object.keys(results(out)).sort()).toEqual(['t000', 't002']);
  }, 120_000);
});
