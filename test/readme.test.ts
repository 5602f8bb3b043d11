/**
 * The README's example is examples/readme.mjs verbatim, and it runs: the block in the README and
 * the file must match, and executing the file prints what the README says it prints.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../examples/readme.mjs', import.meta.url), 'utf8');

describe('README example', () => {
  it('is the same text as examples/readme.mjs', () => {
    const block = /```js\n([\s\S]*?)```/.exec(readme);
    expect(block?.[1]).toBe(example);
  });

  it('runs and prints what the README shows', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.join(' '));
    });
    try {
      // @ts-expect-error the example is plain JavaScript without type declarations
      await import('../examples/readme.mjs');
    } finally {
      spy.mockRestore();
    }
    expect(lines[0]).toMatch(/^loss \d+\.\d{4} \| dL\/dW tensor\(\[\[.*\]\]\)$/);
    expect(lines[1]).toBe('gradcheck passed: true');
    expect(lines[2]).toMatch(/^kept for backward: training \d+ B, prediction 0 B$/);
    expect(lines[3]).toBe('flowchart BT');
    const printed = /```text\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(printed.trimEnd().split('\n')).toEqual(lines);
  });
});
