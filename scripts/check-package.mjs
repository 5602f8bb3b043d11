#!/usr/bin/env node
/**
 * What a project that uses keel as a library gets (`npm run check:package`, after `npm run build`):
 * packs keel (`npm pack`), installs the tarball into a fresh project in a temporary directory (from
 * the npm registry, as a user would), and checks that node_modules stays within 25 MB, that npm
 * prints no install-script warning, that the README's first example (examples/readme.mjs) runs there
 * and prints what the README shows, and that `npx keel` names the command line's packages instead
 * of failing with a stack trace. Prints each figure; exits 1 when a check fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const LIMIT_MB = 25;

/** Bytes of the files below `dir` (as `du --apparent-size` counts them). */
function bytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += bytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

const dir = mkdtempSync(join(tmpdir(), 'keel-package-'));
const failures = [];
const check = (ok, line) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${line}`);
  if (!ok) failures.push(line);
};
try {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  writeFileSync(join(dir, 'package.json'), '{ "name": "uses-keel", "private": true, "type": "module" }\n');
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', `./${tarball}`], {
    cwd: dir,
    encoding: 'utf8',
  });
  const said = `${install.stdout}${install.stderr}`;
  check(install.status === 0, `npm install ${tarball} exits 0`);
  check(!/install-scripts|install script/i.test(said), `no install-script warning${said.trim() ? `:\n${said.trim()}` : ''}`);
  const mb = bytes(join(dir, 'node_modules')) / 1e6;
  check(mb <= LIMIT_MB, `node_modules ${mb.toFixed(1)} MB (limit ${LIMIT_MB} MB)`);
  copyFileSync(join(root, 'examples/readme.mjs'), join(dir, 'readme.mjs'));
  const run = spawnSync(process.execPath, ['readme.mjs'], { cwd: dir, encoding: 'utf8' });
  const expected = /```text\n([\s\S]*?)```/.exec(readFileSync(join(root, 'README.md'), 'utf8'))?.[1] ?? '';
  check(
    run.status === 0 && run.stdout === expected,
    `the README's first example prints what the README shows${run.status === 0 ? '' : `:\n${run.stderr}`}`,
  );
  const cli = spawnSync('npx', ['keel', '--version'], { cwd: dir, encoding: 'utf8' });
  check(
    cli.status === 1 && /npm install .*commander/.test(cli.stderr) && !/\n\s+at /.test(cli.stderr),
    `npx keel without the command line's packages names them: ${cli.stderr.trim().split('\n').join(' / ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failures.length ? 1 : 0;
