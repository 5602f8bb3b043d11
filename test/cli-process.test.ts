/**
 * The built `keel` as a user runs it (a child process of dist/cli/keel.js; `npm test` builds it
 * first): a diverged run stops, says so in one line and exits 2; `--on-nonfinite continue` trains on;
 * SIGINT and SIGTERM write the report of what ran and exit 130/143; KEEL_DATA is used or reported,
 * never replaced, and unzipped IDX files are read; bad --out, KEEL_THREADS and --batch values are one
 * clear line each (exit 1), never a stack trace or a hang.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES } from '../src/data/fashionMnist.js';
import { idxBytes } from './helpers.js';
import { KEEL, keel, type Run, root } from './keel-process.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-proc-'));

/** A run config on the moons (no data files needed). */
function moonsConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const p = join(dir, 'run.json');
  writeFileSync(
    p,
    JSON.stringify({
      name: 'm',
      data: { dataset: 'moons', samples: 400, batchSize: 32 },
      model: { hidden: [16] },
      ...extra,
    }),
  );
  return p;
}

const noStack = (r: Run) => expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);

describe.runIf(existsSync(KEEL))('the keel command', () => {
  it('a diverged run stops at once, says what happened in one line and exits 2', async () => {
    const out = tmp();
    const r = await keel(['--out', out, 'train', '-c', moonsConfig(out), '--lr', '1e7', '--epochs', '5']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^keel: training diverged at epoch 1, step \d+: .* Try a lower learning rate \(this run: 1\.00e\+7\)/,
    );
    expect(lines[0]).toContain(`Report: ${join(out, 'm', 'report.html')}`);
    expect(r.stdout).not.toMatch(/^epoch 2 /m);
    const html = readFileSync(join(out, 'm', 'report.html'), 'utf8');
    expect(html).toContain('class="status error"');
    expect(html).toContain('Training diverged at epoch 1');
    expect(html).toContain('Loss per step up to the divergence');
  });

  it('--on-nonfinite continue trains every epoch, and still exits 2', async () => {
    const out = tmp();
    const r = await keel([
      '--out',
      out,
      'train',
      '-c',
      moonsConfig(out),
      '--lr',
      '1e7',
      '--epochs',
      '3',
      '--on-nonfinite',
      'continue',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^epoch 3 /m);
    expect(r.stderr).toContain('It went on (--on-nonfinite continue).');
    expect(readFileSync(join(out, 'm', 'report.html'), 'utf8')).toContain('class="status warning"');
  });

  it('a healthy run exits 0 with a completed report', async () => {
    const out = tmp();
    const r = await keel(['--out', out, 'train', '-c', moonsConfig(out), '--epochs', '2', '--lr', '0.05']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(out, 'm', 'report.html'), 'utf8')).toContain('Completed: 2 epochs finished');
  });

  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${sig} mid-run writes the report of what ran, marked interrupted, and exits ${code}`, async () => {
      const out = tmp();
      let sent = false;
      const r = await keel(
        [
          '--out',
          out,
          'train',
          '-c',
          moonsConfig(out, { data: { dataset: 'moons', samples: 20000, batchSize: 16 } }),
          '--epochs',
          '500',
        ],
        {
          onStdout: (text, child) => {
            if (!sent && /^epoch 1 /m.test(text)) {
              sent = true;
              child.kill(sig);
            }
          },
        },
      );
      expect(sent).toBe(true);
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(`keel: ${sig} — stopping after the current step and writing the report`);
      expect(r.stderr).toMatch(
        new RegExp(`keel: interrupted by ${sig} at epoch \\d+, step \\d+\\. The report of what ran: `),
      );
      const html = readFileSync(join(out, 'm', 'report.html'), 'utf8');
      expect(html).toContain(`Interrupted by ${sig} at epoch`);
      expect(html).toContain('<svg');
      const rows = readFileSync(join(out, 'm', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.filter((x) => x.type === 'epoch').length).toBeGreaterThanOrEqual(1);
      expect(rows.at(-1)).toMatchObject({ type: 'end', kind: 'interrupted', signal: sig });
    });
  }

  it('KEEL_DATA is used or reported, never replaced; unzipped *-ubyte files are read', async () => {
    const empty = tmp();
    const r = await keel(['--out', empty, 'experiment', 'mlp', '--quick'], { env: { KEEL_DATA: empty } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `keel: KEEL_DATA=${empty}: ${empty} lacks train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]`,
    );
    expect(r.stdout + r.stderr).not.toContain('Fashion-MNIST from'); // no fallback to another copy
    noStack(r);
    const missing = join(empty, 'nope');
    const m = await keel(['--out', empty, 'experiment', 'mlp'], { env: { KEEL_DATA: missing } });
    expect(m.stderr).toContain(`keel: KEEL_DATA=${missing}: no such directory`);

    // Tiny fake IDX files, not gzipped: 20 images of one class.
    const dir = tmp();
    for (const split of ['train', 'test'] as const) {
      const f = FASHION_MNIST_FILES[split];
      writeFileSync(join(dir, f.images.name.replace(/\.gz$/, '')), idxBytes([20, 28, 28], 100));
      writeFileSync(join(dir, f.labels.name.replace(/\.gz$/, '')), idxBytes([20], 3));
    }
    const t = await keel(['--out', dir, 'train', '--epochs', '1', '--no-diagnostics'], {
      env: { KEEL_DATA: dir },
    });
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`Fashion-MNIST from ${dir}: 20 training and 20 test images`);
  });

  it('bad --out, KEEL_THREADS and --batch values are one clear line (exit 1), not a stack trace or a hang', async () => {
    const file = await keel(['--out', '/etc/passwd', 'experiment', 'memory']);
    expect(file.code).toBe(1);
    expect(file.stderr.trim()).toBe(
      'keel: cannot use --out directory /etc/passwd: /etc/passwd is a file, not a directory',
    );
    const proc = await keel(['--out', '/proc/nope', 'experiment', 'memory'], { timeout: 20_000 });
    expect(proc.code).toBe(1);
    expect(proc.stderr.trim()).toMatch(
      /^keel: cannot create --out directory \/proc\/nope: mkdir \/proc\/nope: /,
    );
    for (const v of ['abc', '0', '-2', '1.5']) {
      const t = await keel(['experiment', 'memory', '--out', tmp()], { env: { KEEL_THREADS: v } });
      expect(t.code).toBe(1);
      expect(t.stderr.trim()).toBe(
        `keel: KEEL_THREADS must be a positive integer (1: no helper threads; default: the cores, at most 4), got '${v}'`,
      );
    }
    const g = await keel(['graph', '--batch', '0', '--out', tmp()]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain("--batch must be a positive integer, got '0'");
    for (const r of [file, proc, g]) noStack(r);
  }, 120_000);

  it('--help documents the exit codes', async () => {
    const h = await keel(['--help']);
    expect(h.stdout).toContain('Exit codes:');
    expect(h.stdout).toMatch(/130\s+interrupted by SIGINT/);
  });
});

describe('the build', () => {
  it('prints nothing into npm start (kernel sizes only with --verbose)', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, [join(root, 'scripts/build-wasm.mjs')], { cwd: root });
      let text = '';
      c.stdout.on('data', (d) => {
        text += d;
      });
      c.stderr.on('data', (d) => {
        text += d;
      });
      c.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(text))));
    });
    expect(out).toBe('');
  }, 60_000);
});
