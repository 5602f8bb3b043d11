/**
 * Commands whose work reads values synchronously (the experiments' checks, diagnose's every-step
 * diagnostics) cannot run on a backend whose memory is read asynchronously (webgpu): they refuse it
 * in one line before reading any data, naming the CPU backends instead.
 */
import { backend } from '../../backend/registry.js';
import { KeelError } from '../../util/errors.js';

/**
 * Throws when the active backend reads its memory asynchronously: "`what`: `reads` (what it reads
 * synchronously), which the … backend cannot …; run `it` on a CPU backend".
 */
export function refuseAsyncMemory(what: string, reads: string, it: string): void {
  const active = backend();
  if (active.sync === undefined) return;
  throw new KeelError(
    `${what}: ${reads}, which the ${active.name} backend cannot — its memory is read asynchronously; run ${it} on a CPU backend (native, wasm or js: without --backend ${active.name})`,
  );
}
