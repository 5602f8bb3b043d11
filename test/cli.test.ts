/**
 * The CLI's commands through their functions: train writes runs/<name>/ (config, streamed metrics,
 * report with SVG plots), bad configs are rejected with the field's path, graph writes DOT/Mermaid/
 * SVG, experiment writes its report and result, and the demo without Fashion-MNIST says how to get
 * it and runs the synthetic experiments.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Experiment, findExperiment } from '../src/experiments/index.js';
import { runDemo } from '../src/io/node/demo.js';
import { runDiagnosis } from '../src/io/node/diagnose.js';
import { runExperiment } from '../src/io/node/experiment.js';
import { writeGraph } from '../src/io/node/graph.js';
import { loadConfig } from '../src/io/node/runConfig.js';
import { runTraining } from '../src/io/node/train.js';
import { ConfigError } from '../src/run/config.js';
import { RunAbortedError } from '../src/run/end.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-cli-'));
const quiet = () => {};

describe('keel train', () => {
  it('trains from a config with flag overrides and writes the run directory', async () => {
    const out = tmp();
    const cfgPath = join(out, 'run.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        name: 'moons',
        data: { dataset: 'moons', samples: 400, batchSize: 32, validation: 0.2 },
        model: { hidden: [16] },
        optimizer: { name: 'adam', lr: 0.01 },
      }),
    );
    const config = loadConfig(cfgPath, { epochs: 5, weightDecay: 0.01 });
    expect(config.epochs).toBe(5);
    expect(config.optimizer.weightDecay).toBe(0.01);
    const r = await runTraining(config, { out, log: quiet, tty: false });
    const dir = join(out, 'moons');
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const epochs = metrics.filter((m) => m.type === 'epoch');
    expect(epochs.length).toBe(5);
    expect(epochs[4].valAccuracy).toBeGreaterThan(0.8);
    expect(epochs[0].gradNorms.length).toBe(4);
    expect(metrics.filter((m) => m.type === 'diagnostics').length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).optimizer.name).toBe('adam');
    const html = readFileSync(r.report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Gradient norm per layer');
    expect(html).toContain('Per-layer gradient norms (sampled steps)');
    expect(html).toContain('Layer outputs at the last sampled step');
    for (const f of ['moons-loss.svg', 'moons-accuracy.svg', 'moons-grad-norms.svg'])
      expect(existsSync(join(dir, f))).toBe(true);
  });

  it('rejects bad configs with the path of each bad field and what is allowed', () => {
    const out = tmp();
    const p = join(out, 'bad.json');
    writeFileSync(
      p,
      JSON.stringify({ optimizer: { lr: -1, name: 'lbfgs' }, model: { dropout: [0.5, 2] }, typo: 1 }),
    );
    expect(() => loadConfig(p, {})).toThrow(ConfigError);
    try {
      loadConfig(p, {});
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain(`invalid configuration in ${p} (flags included):`);
      expect(m).toContain('config.optimizer.lr: Too small: expected number to be >0, got -1');
      expect(m).toMatch(
        /optimizer\.name: Invalid option: expected one of "sgd"\|"adam"\|"adamw"\|"rmsprop"\|"adagrad", got "lbfgs"/,
      );
      expect(m).toContain('model.dropout.1');
      expect(m).toContain('Unrecognized key: "typo"');
    }
    writeFileSync(p, '{ not json');
    expect(() => loadConfig(p, {})).toThrow(/is not valid JSON/);
    expect(() => loadConfig(join(out, 'missing.json'), {})).toThrow(/cannot read config file/);
    expect(() => loadConfig(undefined, { lr: 0 })).toThrow(/config.optimizer.lr/);
    writeFileSync(p, JSON.stringify({ model: { hidden: [64, 32], dropout: [0.1, 0.2, 0.5] } }));
    expect(() => loadConfig(p, {})).toThrow(
      'config.model.dropout: 3 probabilities for 2 hidden layers: give one per hidden layer, or one number for all, got [0.1,0.2,0.5]',
    );
  });

  it('an error in the middle of training still writes the report of what ran, marked as failed', async () => {
    const out = tmp();
    const config = loadConfig(undefined, { name: 'crash', epochs: 5 });
    config.data = { ...config.data, dataset: 'moons', samples: 200, batchSize: 50 };
    let err: unknown;
    try {
      await runTraining(config, {
        out,
        log: quiet,
        tty: false,
        callbacks: [
          {
            onEpochEnd(r) {
              if (r.epoch === 2) throw new Error('the disk is full');
              return undefined;
            },
          },
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunAbortedError);
    const e = err as RunAbortedError;
    expect(e.end).toMatchObject({ kind: 'failed', error: 'the disk is full', epochs: 2 });
    const html = readFileSync(e.report ?? '', 'utf8');
    expect(html).toContain(
      'Failed: the disk is full. This report shows what ran before the error (2 epochs finished).',
    );
    expect(html).toContain('<svg');
    expect(readFileSync(join(out, 'crash', 'metrics.jsonl'), 'utf8')).toContain(
      '"type":"end","kind":"failed"',
    );
  });
});

describe('keel graph', () => {
  it('writes DOT, Mermaid and SVG of the configured model', async () => {
    const out = tmp();
    const r = await writeGraph(loadConfig(undefined, { name: 'g' }), { out, batch: 4, log: quiet });
    expect(readFileSync(r.dot, 'utf8')).toContain('linear → [4,256]');
    expect(readFileSync(r.dot, 'utf8')).toContain('1.weight [256,784] float32');
    expect(readFileSync(r.mermaid, 'utf8').startsWith('flowchart BT')).toBe(true);
    expect(readFileSync(r.svg, 'utf8')).toContain('<svg');
  });
});

describe('keel experiment', () => {
  it('writes report, metrics and result for an experiment', async () => {
    const out = tmp();
    const { result, report } = await runExperiment(findExperiment('memory'), {
      out,
      seed: 0,
      quick: true,
      download: false,
      log: quiet,
      tty: false,
    });
    expect(result.checks.every((c) => c.passed)).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('Memory: training vs prediction');
    const saved = JSON.parse(readFileSync(join(out, 'memory', 'result.json'), 'utf8'));
    expect(saved.name).toBe('memory');
    expect(
      readFileSync(join(out, 'memory', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n').length,
    ).toBeGreaterThan(3);
    // A training inside an experiment that diverged turns the banner red and names it.
    const fake: Experiment = {
      name: 'fake',
      description: 'a stand-in whose training diverged',
      needsFashion: false,
      run: async () => ({
        name: 'fake',
        title: 'Fake',
        summary: [],
        checks: [{ name: 'a check', passed: true, detail: '' }],
        plots: [],
        result: {},
        settings: { lr: 1e9 },
        diverged: [
          {
            run: 'the net',
            divergence: {
              epoch: 1,
              step: 3,
              batch: 3,
              loss: Number.NaN,
              reason: 'non-finite',
              firstLoss: 2.3,
              previousLoss: 1e30,
              diagnosis: "the first op to turn finite values into NaN/Inf was the forward of 'linear'",
              recentLosses: [],
              count: 1,
            },
          },
        ],
      }),
    };
    const f = await runExperiment(fake, {
      out,
      seed: 0,
      quick: false,
      download: false,
      log: quiet,
      tty: false,
    });
    const fhtml = readFileSync(f.report, 'utf8');
    expect(fhtml).toContain('class="status error"');
    expect(fhtml).toContain('the net: training diverged at epoch 1, step 3: the loss is NaN; the first op');
    expect(fhtml).toContain('"lr": 1000000000');
    expect(() => findExperiment('nope')).toThrow(
      /unknown experiment 'nope' \(available: underfit-overfit, weight-decay/,
    );
  });
});

describe('keel demo', () => {
  const saved = process.env.KEEL_DATA;
  afterEach(() => {
    if (saved === undefined) delete process.env.KEEL_DATA;
    else process.env.KEEL_DATA = saved;
  });
  it('without Fashion-MNIST: says how to get it, runs the synthetic experiments, prints the report path', async () => {
    const empty = tmp();
    process.env.KEEL_DATA = empty;
    const out = tmp();
    const lines: string[] = [];
    const r = await runDemo({
      out,
      seed: 0,
      quick: true,
      full: false,
      download: false,
      log: (l) => lines.push(l),
      tty: false,
    });
    const text = lines.join('\n');
    expect(text).toContain(`KEEL_DATA=${empty}: ${empty} lacks train-images-idx3-ubyte[.gz]`);
    expect(text).toContain('apt-get install dataset-fashion-mnist');
    expect(text).toContain('Skipping the Fashion-MNIST experiments');
    expect(r.skipped).toEqual(['mlp', 'dropout', 'label-shift', 'covariate-shift', 'perturbation']);
    expect(r.passed).toBe(r.total);
    expect(lines[lines.length - 1]).toContain(`Report: ${r.report}`);
    expect(readFileSync(r.report, 'utf8')).toContain('underfit-overfit');
  });
});

describe('keel diagnose', () => {
  it('prints a health table and names the vanishing layers of a deep sigmoid net', async () => {
    const lines: string[] = [];
    const config = loadConfig(undefined, {});
    config.data = { ...config.data, dataset: 'spirals', samples: 300 };
    config.model = {
      ...config.model,
      hidden: new Array(9).fill(32),
      activation: 'sigmoid',
      init: 'normal',
      initStd: 1,
    };
    const r = await runDiagnosis(config, { steps: 3, log: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toContain('‖grad‖');
    expect(text).toContain('2 (Sigmoid)');
    expect(r.samples.length).toBe(3);
    expect(r.alarms.map((a) => a.kind)).toContain('vanishing');
    expect(r.alarms.find((a) => a.kind === 'vanishing')?.where[0]).toBe('1.weight');
  });
  it('a healthy run says so', async () => {
    const lines: string[] = [];
    const config = loadConfig(undefined, {});
    config.data = { ...config.data, dataset: 'moons', samples: 200, batchSize: 32 };
    config.model = { ...config.model, hidden: [16] };
    const r = await runDiagnosis(config, { steps: 5, log: (l) => lines.push(l) });
    expect(r.alarms).toEqual([]);
    expect(lines.at(-1)).toBe('healthy: no alarm in 5 steps');
  });
});

describe('version', () => {
  it('the CLI and keel info report package.json version', async () => {
    const { KEEL_VERSION } = await import('../src/util/version.js');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(KEEL_VERSION).toBe(pkg.version);
  });
});
