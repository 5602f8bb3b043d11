/**
 * Runs the built `keel` (dist/cli/keel.js, which `npm test` builds first) as a child process, as a
 * user would: exit code, signal and output come back; a run past its timeout is killed and fails.
 * `startLab` starts `keel lab` on a free port and resolves to its URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;
export const KEEL = join(root, 'dist/cli/keel.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function keel(
  args: string[],
  opts: {
    env?: Record<string, string | undefined>;
    timeout?: number;
    onStdout?: (text: string, child: ChildProcess) => void;
    /** Called once the child is spawned (to kill it at a moment of the test's choosing). */
    onSpawn?: (child: ChildProcess) => void;
  } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [KEEL, ...args], { cwd: root, env });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `keel ${args.join(' ')} did not finish in ${opts.timeout ?? 60_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, opts.timeout ?? 60_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts `keel lab --port 0` (optionally with another environment); resolves to its URL and process. */
export async function startLab(
  env: Record<string, string | undefined> = {},
): Promise<{ url: string; child: ChildProcess }> {
  let child: ChildProcess | undefined;
  let resolveUrl: (u: string) => void = () => {};
  const url = new Promise<string>((r) => {
    resolveUrl = r;
  });
  void keel(['lab', '--port', '0'], {
    env,
    timeout: 600_000,
    onSpawn: (c) => {
      child = c;
    },
    onStdout: (text) => {
      const m = /open (http:\/\/\S+)/.exec(text);
      if (m) resolveUrl(m[1]);
    },
  });
  const u = await Promise.race([
    url,
    new Promise<string>((_, rej) => setTimeout(() => rej(new Error('keel lab did not start')), 20_000)),
  ]);
  return { url: u, child: child as ChildProcess };
}
