/**
 * Kernel fusion over a traced plan (the fused ops' definitions: backend/fused.ts). Not yet: the
 * plan is returned as traced.
 */
import type { Plan } from '../backend/plan.js';

/** The plan with fusable kernel sequences replaced by fused ops. */
export function fuse(plan: Plan): Plan {
  return plan;
}
