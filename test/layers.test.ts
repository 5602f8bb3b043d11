/**
 * The layer line is checked, not wished for: `npm run lint:layers` (dependency-cruiser with
 * .dependency-cruiser.cjs, part of `npm run lint`) fails on an import planted against each kind of
 * rule — a low layer reaching up (util → cli), platform code in the platform-free core (run →
 * node:fs), a command-line package loaded statically by library code (report → bullmq) — naming the
 * rule and the import, and passes on the tree as it is.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const depcruise = join(root, 'node_modules/.bin/depcruise');

/** Runs dependency-cruiser with the project's rules over `paths`. */
function cruise(paths: string[]): { code: number | null; output: string } {
  const r = spawnSync(depcruise, [...paths, '--config', '.dependency-cruiser.cjs'], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Writes `text` to `path` (relative to the root), cruises it, and removes it again. */
function planted(path: string, text: string): { code: number | null; output: string } {
  writeFileSync(join(root, path), text);
  try {
    return cruise([path]);
  } finally {
    rmSync(join(root, path), { force: true });
  }
}

describe('the layer line (npm run lint:layers)', () => {
  it('fails on a planted import that breaks it, naming the rule and the import', () => {
    const up = planted(`src/util/planted-${process.pid}.ts`, "export { main } from '../cli/main.js';\n");
    expect(up.code).not.toBe(0);
    expect(up.output).toContain(`error layer: util: src/util/planted-${process.pid}.ts → src/cli/main.ts`);
    expect(up.output).toContain(
      `error nothing imports the CLI: src/util/planted-${process.pid}.ts → src/cli/main.ts`,
    );

    const platform = planted(
      `src/run/planted-${process.pid}.ts`,
      "import { readFileSync } from 'node:fs';\nexport const read = (p: string) => readFileSync(p, 'utf8');\n",
    );
    expect(platform.code).not.toBe(0);
    expect(platform.output).toContain(
      `error platform code only at the edges: src/run/planted-${process.pid}.ts → fs`,
    );

    const eager = planted(
      `src/report/planted-${process.pid}.ts`,
      "import { Queue } from 'bullmq';\nexport const queue = (name: string) => new Queue(name);\n",
    );
    expect(eager.code).not.toBe(0);
    // (npm may keep node_modules behind a link: the module's path is matched from node_modules on.)
    expect(eager.output).toMatch(
      new RegExp(
        `error library code loads optional packages lazily: src/report/planted-${process.pid}\\.ts → \\S*node_modules/bullmq/`,
      ),
    );
  }, 60_000);

  it('passes on the tree as it is, with no known violation left', () => {
    const r = cruise(['src', 'lab/src', 'test', 'bench', 'examples']);
    expect(r.output).toContain('no dependency violations found');
    expect(r.output).not.toContain('known violation');
    expect(r.code).toBe(0);
  }, 60_000);
});
