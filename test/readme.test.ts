/**
 * The README's examples run as printed: every ```js block is executed (imports of 'keel' resolve
 * to the sources), the first block is examples/readme.mjs verbatim, and what it prints is the
 * README's ```text block.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../examples/readme.mjs', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = new URL('./.readme-blocks/', import.meta.url);

async function runBlock(i: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const file = new URL(`block${i}.mjs`, dir);
  writeFileSync(file, blocks[i]);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.join(' '));
  });
  try {
    await import(/* @vite-ignore */ `./.readme-blocks/block${i}.mjs`);
  } finally {
    spy.mockRestore();
  }
  return lines;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('has the main example, the weight-decay and the dropout examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks[0]).toBe(example);
  });

  it('the main example prints what the README shows', async () => {
    const lines = await runBlock(0);
    const printed = /```text\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(printed.trimEnd().split('\n')).toEqual(lines);
    expect(lines[1]).toBe('gradcheck passed: true');
  });

  it('the weight-decay example builds the documented groups', async () => {
    const i = blocks.findIndex((b) => b.includes('decayGroups'));
    const lines = await runBlock(i);
    expect(lines[0]).toBe('decay: 2 tensors, λ=0.05; noDecay: 4 tensors, λ=0');
    expect(lines[1]).toBe('SGD, AdamW, SGD');
  });

  it('the input-perturbation example runs', async () => {
    const i = blocks.findIndex((b) => b.includes('data.transforms'));
    const lines = await runBlock(i);
    expect(lines).toEqual([
      'compose(randomTranslate(2), randomHorizontalFlip(0.5), gaussianNoise(0.1)) 4×784',
      'eval is the identity: true',
      'GaussianNoise in eval: true',
    ]);
  });

  it('the dropout example runs', async () => {
    const i = blocks.findIndex((b) => b.includes('nn.Dropout'));
    const lines = await runBlock(i);
    expect(lines[0]).toMatch(/^train mean ≈ 1: (0\.9\d|1\.0\d)$/);
    expect(lines[1]).toBe('eval is the identity: true');
  });
});

describe('README: compiled steps', () => {
  it('is examples/compile.mjs, and trains the moons to a small loss with two plans', async () => {
    const i = blocks.findIndex((b) => b.includes('compile((x, t) =>'));
    expect(i).toBeGreaterThan(0);
    expect(blocks[i]).toBe(readFileSync(new URL('../examples/compile.mjs', import.meta.url), 'utf8'));
    const lines = await runBlock(i);
    expect(lines[0]).toMatch(/^last loss 0\.0\d\d; plans: 2 \(batches of 100 and the last of 24\)$/);
    expect(lines[1]).toMatch(/^one step runs \d+ kernels: linearAct, .*optimizerStep/);
    expect(lines[2]).toMatch(/^train accuracy (0\.99\d|1\.000)$/);
  });
});

describe('README: safetensors', () => {
  it('saves a model, loads it into another, and the outputs agree', async () => {
    const i = blocks.findIndex((b) => b.includes('saveSafetensors'));
    expect(i).toBeGreaterThan(0);
    const cwd = process.cwd();
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    process.chdir(mkdtempSync(join(tmpdir(), 'keel-readme-')));
    try {
      const lines = await runBlock(i);
      expect(lines[0]).toBe('1.bias 1.weight 3.bias 3.weight pt'); // the file orders tensors by name
      expect(lines[1]).toBe('same outputs: true');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('README: a user-defined optimizer', () => {
  it('the one-line chain builds', async () => {
    const i = blocks.findIndex((b) => b.includes('ChainOptimizer'));
    expect(i).toBeGreaterThan(0);
    const lines = await runBlock(i);
    expect(lines[0]).toBe(
      'ChainOptimizer(chain(clipByGlobalNorm, scaleByAdam, partition(on: addDecayedWeights, off: identity), scaleByLearningRate))',
    );
  });
});
