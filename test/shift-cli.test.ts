/**
 * `keel shift` through its function, on the 2-D moons (fast): a target drawn without shift is not
 * flagged, one drawn with a biased selection on an input or a tweaked class prior is, with the
 * priors estimated close to the truth; a checkpoint of an earlier run serves as the model; a file
 * target with labels is read; --retrain lowers the target loss under covariate shift; bad specs are
 * one error naming the allowed forms. And, when Fashion-MNIST is installed, a short image run.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moons } from '../src/data/synthetic.js';
import { loadConfig } from '../src/io/node/runConfig.js';
import { runShift } from '../src/io/node/shift.js';
import { runTraining } from '../src/io/node/train.js';
import { parseDatasetTarget, parseShiftSpec } from '../src/shift/target.js';
import { ValueError } from '../src/util/errors.js';
import { idxBytes } from './helpers.js';
import { needs } from './requires.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-shift-'));
const quiet = () => {};

function moonsConfig(dir: string, extra: Record<string, unknown> = {}) {
  const path = join(dir, 'moons.json');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'moons',
      epochs: 15,
      data: { dataset: 'moons', samples: 1500, batchSize: 64, validation: 0.2 },
      model: { hidden: [16] },
      optimizer: { name: 'adam', lr: 0.01 },
      ...extra,
    }),
  );
  return loadConfig(path, {});
}

describe('keel shift', () => {
  it('parses shift and target specs, naming the allowed forms on errors', () => {
    expect(parseShiftSpec('none')).toEqual({ kind: 'none' });
    expect(parseShiftSpec('dirichlet:0.5')).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    expect(parseShiftSpec('tweak-one:3:0.9')).toEqual({ kind: 'tweak-one', cls: 3, rho: 0.9 });
    expect(parseShiftSpec('brightness:-2')).toEqual({ kind: 'brightness', strength: -2 });
    expect(parseShiftSpec('feature:1:3')).toEqual({ kind: 'feature', index: 1, strength: 3 });
    expect(() => parseShiftSpec('rotate:30')).toThrow(/unknown shift 'rotate' \(forms: none, dirichlet:<α>/);
    expect(() => parseShiftSpec('dirichlet:-1')).toThrow(/α must be > 0, got -1/);
    expect(() => parseShiftSpec('dirichlet')).toThrow(/expected 1 value after 'dirichlet'/);
    expect(() => parseShiftSpec('tweak-one:1.5:0.3')).toThrow(/the class must be an integer ≥ 0, got 1.5/);
    expect(() => parseShiftSpec('tweak-one:1:2')).toThrow(/ρ must be in \[0, 1\], got 2/);
    expect(() => parseShiftSpec('feature:x:1')).toThrow(/the feature index must be a number, got 'x'/);
    const known = ['fashion-mnist', 'moons'];
    expect(parseDatasetTarget('test', 'moons', known)).toEqual({ dataset: 'moons', split: 'test' });
    expect(parseDatasetTarget('moons:train', 'moons', known)).toEqual({ dataset: 'moons', split: 'train' });
    expect(parseDatasetTarget('fashion-mnist', 'moons', known)).toEqual({
      dataset: 'fashion-mnist',
      split: 'test',
    });
    expect(parseDatasetTarget('data/x.npy', 'moons', known)).toBeNull();
    expect(() => parseDatasetTarget('moons:valid', 'moons', known)).toThrow(/must be 'train' or 'test'/);
  });

  it('flags a covariate and a label shift on moons, not a uniform draw; retraining with weights lowers the target loss', async () => {
    const out = tmp();
    const config = moonsConfig(out);
    const none = await runShift({ config, target: 'test', out, name: 'none', log: quiet, tty: false });
    expect(none.analysis.shifted).toBe(false);
    expect(none.analysis.tests.every((t) => t.pValue >= 0.05 / 3)).toBe(true);
    expect(none.analysis.accuracy?.uncorrected).toBeGreaterThan(0.9);
    // The model was trained as a complete run inside the shift run's directory.
    expect(existsSync(join(out, 'none', 'source', 'checkpoint.safetensors'))).toBe(true);
    const cov = await runShift({
      config,
      target: 'test',
      shift: 'feature:0:4',
      retrain: true,
      out,
      name: 'covariate',
      log: quiet,
      tty: false,
    });
    expect(cov.analysis.shifted).toBe(true);
    const mmd = cov.analysis.tests.find((t) => t.test === 'MMD');
    expect(mmd?.pValue).toBeLessThan(0.05 / 3);
    expect(cov.analysis.covariate.effectiveSampleSize).toBeLessThan(cov.analysis.covariate.rows * 0.95);
    expect(cov.retrained?.weighted.loss).toBeLessThan(cov.retrained?.uncorrected.loss ?? 0);
    const label = await runShift({
      config,
      target: 'test',
      shift: 'tweak-one:1:0.9',
      out,
      name: 'label',
      log: quiet,
      tty: false,
    });
    expect(label.analysis.shifted).toBe(true);
    const em = label.analysis.estimates.find((e) => e.method === 'EM+BCTS');
    expect(em?.priors[1]).toBeGreaterThan(0.8);
    expect(em?.tvError).toBeLessThan(0.05);
    // The report and the result file.
    const html = readFileSync(label.report, 'utf8');
    expect(html).toContain('Distribution shift: detected');
    expect(html).toContain('Class priors: source, estimated target, true target');
    const result = JSON.parse(readFileSync(join(out, 'label', 'result.json'), 'utf8'));
    expect(result.shifted).toBe(true);
    expect(result.estimates.map((e: { method: string }) => e.method)).toEqual([
      'BBSE',
      'RLLS',
      'EM+BCTS',
      'EM',
    ]);
  }, 120_000);

  it('loads the model from a checkpoint and reads a file target with labels', async () => {
    const out = tmp();
    // A run without a validation split: half its test split becomes the held-out source data.
    const config = moonsConfig(out, { data: { dataset: 'moons', samples: 1000, batchSize: 64 } });
    await runTraining(config, { out, log: quiet, tty: false, diagnostics: false });
    // Target: moons from another seed, moved 0.5 to the right, as a JSON file, with IDX labels.
    const t = moons(600, 0.1, 77);
    const x = t.X.readSync() as Float32Array;
    const rows = Array.from({ length: 600 }, (_, i) => [x[2 * i] + 0.5, x[2 * i + 1]]);
    writeFileSync(join(out, 'target.json'), JSON.stringify(rows));
    const labels = idxBytes([600], 0);
    labels.set(Uint8Array.from(t.y.readSync() as Int32Array), 8);
    writeFileSync(join(out, 'labels.idx'), labels);
    const lines: string[] = [];
    const r = await runShift({
      checkpoint: join(out, 'moons'),
      target: join(out, 'target.json'),
      targetLabels: join(out, 'labels.idx'),
      out,
      log: (l) => lines.push(l),
      tty: false,
    });
    expect(r.analysis.sizes).toEqual({ source: 250, target: 600 });
    expect(r.analysis.shifted).toBe(true);
    // With the target's labels, every accuracy is measured: a share of the 600 target samples.
    const acc: Record<string, number> = r.analysis.accuracy ?? {};
    expect(Object.keys(acc).sort()).toEqual(['bbse', 'calibrated', 'emBcts', 'uncorrected']);
    for (const v of Object.values(acc)) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      expect(v * 600).toBeCloseTo(Math.round(v * 600), 9);
    }
    expect(lines.join('\n')).toMatch(/the run has no validation split; 250 of its test rows/);
    expect(lines.join('\n')).toMatch(/^Shift detected: /m);
    await expect(
      runShift({
        checkpoint: join(out, 'moons'),
        target: join(out, 'target.json'),
        shift: 'dirichlet:1',
        out,
        log: quiet,
      }),
    ).rejects.toThrow(/--shift applies to data set targets/);
    await expect(runShift({ target: 'test', out, log: quiet })).rejects.toThrow(ValueError);
    await expect(
      runShift({ checkpoint: join(out, 'moons'), target: 'fashion-mnist', out, log: quiet }),
    ).rejects.toThrow(/fashion-mnist has 784 inputs and 10 classes, the model 2 and 2/);
  }, 120_000);

  it.runIf(needs('Fashion-MNIST', 'shift-cli.test'))(
    'Fashion-MNIST: a Dirichlet label shift is detected and its priors estimated (short run)',
    async () => {
      const out = tmp();
      const path = join(out, 'f.json');
      writeFileSync(
        path,
        JSON.stringify({
          name: 'f',
          epochs: 2,
          data: { dataset: 'fashion-mnist', limit: 6000, validation: 0.25 },
        }),
      );
      const r = await runShift({
        config: loadConfig(path, {}),
        target: 'test',
        shift: 'dirichlet:1',
        targetSize: 1000,
        out,
        log: quiet,
        tty: false,
      });
      expect(r.analysis.shifted).toBe(true);
      // A 2-epoch model is weak, yet its estimate is far closer to the truth than "no shift" is.
      const truth = r.analysis.targetFrequencies ?? [];
      const noShift = r.analysis.sourcePriors.reduce((s, p, c) => s + Math.abs(p - truth[c]), 0) / 2;
      const em = r.analysis.estimates.find((e) => e.method === 'EM+BCTS');
      expect(em?.tvError).toBeLessThan(noShift / 2);
      expect(r.analysis.accuracy?.uncorrected).toBeGreaterThan(0.5);
    },
    120_000,
  );
});
