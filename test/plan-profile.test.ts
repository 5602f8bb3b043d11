// KEEL_PROFILE_PLANS=1 (io/node/planProfile.ts): compiled plans time their ops by kind and the
// totals are printed as a table at exit — the table from a profile, and the variable end to end
// in a child process running the built package (dist/, which `npm test` builds first).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backendByName, withBackend } from '../src/backend/registry.js';
import type { Backend } from '../src/backend/types.js';
import { profilePlans } from '../src/backend/wasm/planRunner.js';
import * as k from '../src/index.js';
import { formatPlanProfile } from '../src/io/node/planProfile.js';
import { root } from './keel-process.js';

describe('plan profiles', () => {
  afterEach(() => {
    profilePlans(false);
  });

  it('counts every call of each op kind and prints the costliest first', () => {
    const p = profilePlans(true);
    if (!p) throw new Error('profilePlans(true) returned null');
    const a = k.randn([8, 16]);
    const b = k.randn([16, 4]);
    withBackend(backendByName('wasm') as Backend, () => {
      const step = k.compile(() => k.sum(k.relu(k.matmul(a, b))));
      for (let i = 0; i < 5; i++) step();
    });
    // The first call traces (eagerly); the plan runs on the four after it.
    // The product and its ReLU are one fused kernel in the plan.
    expect(p.get('linearAct 8×16×4')?.calls).toBe(4);
    expect(p.get('reduce sum')?.calls).toBe(4);
    const table = formatPlanProfile(p).split('\n');
    expect(table[0]).toMatch(/^compiled plans' ops \(KEEL_PROFILE_PLANS=1\): [\d.]+ ms in all$/);
    expect(table[1]).toMatch(/^op +calls +ms +µs\/call +share$/);
    const ms = table.slice(2).map((l) => Number(l.trim().split(/ {2,}/)[2]));
    expect(ms.length).toBe(p.size);
    expect([...ms].sort((x, y) => y - x)).toEqual(ms);
    expect(table.some((l) => /^linearAct 8×16×4 +4 /.test(l))).toBe(true);
  });

  it('KEEL_PROFILE_PLANS=1 prints the table when the process exits, and nothing without it', () => {
    const script = `import '${join(root, 'dist/io/node/engine.js')}';
      const k = await import('${join(root, 'dist/index.js')}');
      const a = k.randn([32, 32]);
      const step = k.compile(() => k.sum(k.matmul(a, a)));
      for (let i = 0; i < 3; i++) step();`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, KEEL_THREADS: '1', ...env },
      });
    const on = run({ KEEL_PROFILE_PLANS: '1' });
    expect(on.status).toBe(0);
    expect(on.stderr).toContain("compiled plans' ops (KEEL_PROFILE_PLANS=1)");
    expect(on.stderr).toMatch(/matmul 32×32×32 +2 /);
    const off = run({ KEEL_PROFILE_PLANS: '' });
    expect(off.status).toBe(0);
    expect(off.stderr).not.toContain('compiled plans');
  });
});
