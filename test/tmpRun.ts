/**
 * One temporary directory for the whole test run (Vitest's globalSetup): tests and the processes
 * they start make their directories under it — it is TMPDIR, which `os.tmpdir()` reads, set before
 * the test workers start — and it is removed when the run ends, pass or fail, so a run leaves
 * nothing in the system's temporary directory. A removal that fails (a mount a failed test left) is
 * reported, not thrown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'keel-test-run-'));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      console.warn(`tmpRun: could not remove ${dir}: ${(e as Error).message}`);
    }
  };
}
