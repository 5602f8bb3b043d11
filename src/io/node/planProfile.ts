/**
 * `KEEL_PROFILE_PLANS=1`: every compiled plan prepared in the process times its ops by kind (the
 * CPU plan runner's `profilePlans`), and the totals go to stderr as a table when the process exits —
 * where a compiled step's time goes (products by shape, fused kernels, the optimizer pass), without
 * editing a script. Imported for its effect by engine.ts.
 */
import { type PlanProfile, profilePlans } from '../../backend/wasm/planRunner.js';

/** The profile as a table, the costliest kind first: calls, total ms, µs a call, share of the total. */
export function formatPlanProfile(p: PlanProfile): string {
  const rows = [...p].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  const width = Math.max(4, ...rows.map(([name]) => name.length));
  const lines = [
    `compiled plans' ops (KEEL_PROFILE_PLANS=1): ${total.toFixed(1)} ms in all`,
    `${'op'.padEnd(width)}  ${'calls'.padStart(9)}  ${'ms'.padStart(10)}  ${'µs/call'.padStart(9)}  share`,
  ];
  for (const [name, e] of rows)
    lines.push(
      `${name.padEnd(width)}  ${String(e.calls).padStart(9)}  ${e.ms.toFixed(1).padStart(10)}  ${((e.ms * 1000) / e.calls).toFixed(1).padStart(9)}  ${((100 * e.ms) / (total || 1)).toFixed(1).padStart(4)}%`,
    );
  return lines.join('\n');
}

if (process.env.KEEL_PROFILE_PLANS === '1') {
  const profile = profilePlans(true) as PlanProfile;
  process.on('exit', () => {
    if (profile.size) process.stderr.write(`${formatPlanProfile(profile)}\n`);
  });
}
