/**
 * What some tests need that a bare machine (Node.js and npm only) lacks: Fashion-MNIST, the system
 * BLAS, Chromium, redis-server. `needs(what, file)` says whether it is here. Where it is not, the
 * tests that need it skip and the file says once, on stderr, what is missing and how to get it —
 * except in CI (`KEEL_CI=1`, set by .ci/run, which installs all of them), where a missing one fails
 * the file. Where each is looked for follows what keel itself does ($KEEL_DATA, $KEEL_BLAS), and
 * `KEEL_CHROMIUM` / `KEEL_REDIS_SERVER` name the two programs (.ci/run's bare-machine run points
 * every one of them at nothing).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadBlas } from '../src/io/node/blas.js';
import { findFashionMnist } from '../src/io/node/fashionMnist.js';
import { probeWebGpu, WEBGPU_PACKAGE } from '../src/io/node/webgpu.js';

/** SwiftShader's Vulkan driver in Debian's chromium package: the tests' WebGPU adapter without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Something a test may need beyond Node.js and npm. */
export type Requirement = 'Fashion-MNIST' | 'OpenBLAS' | 'Chromium' | 'redis-server' | 'a WebGPU adapter';

/** Where Debian's Chromium is (or `$KEEL_CHROMIUM`). */
export const CHROMIUM = process.env.KEEL_CHROMIUM ?? '/usr/bin/chromium';
/** Where Debian's redis-server is (or `$KEEL_REDIS_SERVER`). */
export const REDIS_SERVER = process.env.KEEL_REDIS_SERVER ?? '/usr/bin/redis-server';

const how: Record<Requirement, string> = {
  'Fashion-MNIST': 'apt-get install dataset-fashion-mnist, or KEEL_DATA=<dir with the four *-ubyte files>',
  OpenBLAS: 'apt-get install libopenblas0-pthread, or KEEL_BLAS=<a BLAS library>',
  Chromium: 'apt-get install chromium, or KEEL_CHROMIUM=<a Chromium binary>',
  'redis-server': 'apt-get install redis-server, or KEEL_REDIS_SERVER=<a redis-server binary>',
  'a WebGPU adapter': `npm install ${WEBGPU_PACKAGE}; without a GPU: apt-get install libvulkan1 chromium (SwiftShader), which the tests find at ${SWIFTSHADER_ICD}`,
};

const probes: Record<Requirement, () => boolean> = {
  'Fashion-MNIST': () => findFashionMnist() !== null,
  OpenBLAS: () => loadBlas(1).blas !== null,
  Chromium: () => existsSync(CHROMIUM),
  'redis-server': () => existsSync(REDIS_SERVER),
  // Probed asynchronously by needsWebGpu before needs() asks.
  'a WebGPU adapter': () => false,
};

const known = new Map<Requirement, boolean>();
const said = new Set<string>();

/**
 * Whether `what` is here. Absent: throws under `KEEL_CI=1`; otherwise says once per `file` which
 * tests skip and how to get what they need.
 */
export function needs(what: Requirement, file: string): boolean {
  let here = known.get(what);
  if (here === undefined) {
    here = probes[what]();
    known.set(what, here);
  }
  if (here) return true;
  if (process.env.KEEL_CI === '1')
    throw new Error(`${file}: CI must have ${what} (.ci/run installs it): ${how[what]}`);
  const key = `${file}:${what}`;
  if (!said.has(key)) {
    said.add(key);
    console.warn(`${file}: skipping the tests that need ${what}, which is not here (${how[what]})`);
  }
  return false;
}

/**
 * Whether a WebGPU adapter runs here (npm webgpu in Node, on SwiftShader unless VK_ICD_FILENAMES
 * says otherwise), enabling the webgpu backend when it does; then as `needs`.
 */
export async function needsWebGpu(file: string): Promise<boolean> {
  if (!known.has('a WebGPU adapter')) {
    if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD))
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    process.env.XDG_RUNTIME_DIR ??= tmpdir();
    const why = await probeWebGpu();
    if (why) how['a WebGPU adapter'] = why;
    known.set('a WebGPU adapter', why === null);
  }
  return needs('a WebGPU adapter', file);
}
