/**
 * WebGPU in Node: the `webgpu` backend on Dawn's Node binding (npm `webgpu`, an optional peer
 * dependency of keel, pinned to 0.6.2: the build that loads on Debian bookworm). `enableWebGpu()`
 * imports the package lazily, asks for an adapter and a device with the adapter's own limits (the
 * defaults cap buffers at 128/256 MiB), and registers the backend; it never selects it — webgpu is
 * never the default. What cannot be found is said in one line: the package, or an adapter (on a
 * Linux machine without a GPU, SwiftShader from Debian's chromium package works:
 * `apt-get install libvulkan1 chromium` and `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`).
 *
 * The object `create()` returns is kept in this module for the life of the process: when V8
 * collects it, Dawn's instance is torn down under the live device and the process dies at random
 * (research/webgpu-probe.md). `KEEL_DAWN` passes Dawn toggles (space-separated, e.g.
 * `backend=opengles`); `KEEL_WEBGPU_FEATURE_LEVEL=compatibility` asks for a compatibility adapter.
 */
import { backendUnavailable, registerBackend } from '../../backend/registry.js';
import { type GpuAdapterLike, type GpuEntry, openDevice } from '../../backend/webgpu/device.js';
import {
  createWebGpuBackend,
  type GpuAdapterFacts,
  type GpuDevice,
  type WebGpuBackend,
} from '../../backend/webgpu/index.js';
import { KeelError } from '../../util/errors.js';

/** The version of npm `webgpu` keel is tested with. */
export const WEBGPU_PACKAGE = 'webgpu@0.6.2';

const NO_ADAPTER =
  'no WebGPU adapter here (without a GPU on Linux: apt-get install libvulkan1 chromium, then VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)';

interface DawnModule {
  create(options: string[]): GpuEntry;
}

/** What keeps the device alive: Dawn's instance (see the file's header), adapter, device, backend. */
let held: { gpu: GpuEntry; adapter: GpuAdapterLike; device: GpuDevice; backend: WebGpuBackend } | null = null;
let failure: string | null = null;

async function loadDawn(): Promise<DawnModule> {
  try {
    return (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND')
      throw new KeelError(`webgpu: the package webgpu is not installed (npm install ${WEBGPU_PACKAGE})`);
    throw new KeelError(
      `webgpu: the package webgpu does not load on ${process.platform}-${process.arch}: ${String(err.message).split('\n')[0]} (keel is tested with ${WEBGPU_PACKAGE})`,
    );
  }
}

/**
 * Makes the `webgpu` backend available (once per process) and returns it; select it with
 * `setBackend('webgpu')`. Throws a KeelError saying what is missing when it cannot run here.
 */
export async function enableWebGpu(): Promise<WebGpuBackend> {
  if (held) return held.backend;
  try {
    const dawn = await loadDawn();
    const toggles = (process.env.KEEL_DAWN ?? '').split(' ').filter((t) => t);
    const gpu = dawn.create(toggles);
    const level = process.env.KEEL_WEBGPU_FEATURE_LEVEL;
    const opened = await openDevice(gpu, level ? { featureLevel: level } : {});
    if (!opened) throw new KeelError(`webgpu: ${NO_ADAPTER}`);
    const { adapter, device, facts } = opened;
    const backend = createWebGpuBackend(device, facts);
    held = { gpu, adapter, device, backend };
    failure = null;
    registerBackend('webgpu', () => backend);
    return backend;
  } catch (e) {
    failure =
      e instanceof KeelError
        ? e.message.replace(/^webgpu: /, '')
        : `it failed to start: ${(e as Error).message}`;
    backendUnavailable('webgpu', failure);
    if (e instanceof KeelError) throw e;
    throw new KeelError(`webgpu: ${failure}`);
  }
}

/** Tries `enableWebGpu` and says why it could not run (null when it runs); never throws. */
export async function probeWebGpu(): Promise<string | null> {
  try {
    await enableWebGpu();
    return null;
  } catch {
    return failure;
  }
}

/** The adapter of the enabled backend (null before `enableWebGpu`, or where it failed). */
export function webGpuAdapter(): GpuAdapterFacts | null {
  return held?.backend.adapter ?? null;
}

/** Gives the device back (tests, benchmarks): the backend stops working until enabled again. */
export async function disableWebGpu(): Promise<void> {
  const h = held;
  if (!h) return;
  await h.backend.ctx.idle().catch(() => {});
  h.backend.ctx.dispose();
  h.device.destroy();
  held = null;
  registerBackend('webgpu', () => null);
  backendUnavailable('webgpu', 'disabled (enableWebGpu() to use it again)');
}
